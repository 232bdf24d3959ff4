package release

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// apply server-side applies a stream. API errors that say "try again" are
// retried; an apply does the same thing however often it lands.
func (s *importReleaseStep) apply(ctx context.Context, ac *imagev1apply.ImageStreamApplyConfiguration, manager string, force bool) error {
	_, err := s.applyStream(ctx, ac, manager, force)
	return err
}

// applyStream is apply, returning the stream as the server stored it.
func (s *importReleaseStep) applyStream(ctx context.Context, ac *imagev1apply.ImageStreamApplyConfiguration, manager string, force bool) (*imagev1.ImageStream, error) {
	opts := []ctrlruntimeclient.ApplyOption{ctrlruntimeclient.FieldOwner(manager)}
	if force {
		opts = append(opts, ctrlruntimeclient.ForceOwnership)
	}
	// A client decodes the server's answer into the apply configuration it
	// is given, so every attempt gets a fresh copy of what the caller built:
	// a retry that sent a decoded answer would claim every field of the
	// stream for manager and carry a resourceVersion that is stale by then.
	intent, err := json.Marshal(ac)
	if err != nil {
		return nil, fmt.Errorf("could not encode the apply configuration of image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	var answer *imagev1apply.ImageStreamApplyConfiguration
	err = retry.OnError(applyBackoff, isRetriable, func() error {
		answer = &imagev1apply.ImageStreamApplyConfiguration{}
		if err := json.Unmarshal(intent, answer); err != nil {
			return err
		}
		return s.client.Apply(ctx, answer, opts...)
	})
	if err != nil {
		return nil, fmt.Errorf("could not apply image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	data, err := json.Marshal(answer)
	if err != nil {
		return nil, fmt.Errorf("could not encode the applied image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	stored := &imagev1.ImageStream{}
	if err := json.Unmarshal(data, stored); err != nil {
		return nil, fmt.Errorf("could not decode the applied image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	return stored, nil
}

// applyBackoff spaces the retries of an apply. client-go's DefaultBackoff
// (4 tries within about 0.3s) gives up in a short burst of throttling or
// server errors; this allows 8 tries within about 1.3s, jittered so that N
// processes that failed together do not retry together.
var applyBackoff = wait.Backoff{Steps: 8, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second}

// isRetriable reports API errors worth retrying: throttling, timeouts, server
// errors, and conflicts (an apply carries no resourceVersion, so a conflict
// is a transient one, e.g. from a proxy).
func isRetriable(err error) bool {
	return apiretry.IsTransient(err) || (apierrors.IsConflict(err) && !isApplyConflict(err))
}

// isApplyConflict tells a field-ownership conflict of server-side apply
// (which retrying cannot fix) from an optimistic-concurrency one.
func isApplyConflict(err error) bool {
	return apierrors.HasStatusCause(err, metav1.CauseTypeFieldManagerConflict)
}
