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
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// apply server-side applies a stream. Transient errors were retried by the
// step's client already (apiretry); here only an optimistic-concurrency
// conflict is tried again, which an apply does the same however often it
// lands.
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
	err = apiretry.DoIf(ctx, applyBackoff, isConcurrencyConflict, func() error {
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

// applyBackoff spaces the attempts after a conflict: 8 within about 1.3s,
// jittered so that N processes that conflicted together do not try again
// together.
var applyBackoff = wait.Backoff{Steps: 8, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second}

// isConcurrencyConflict reports the conflicts worth another attempt: an
// optimistic-concurrency one (an apply carries no resourceVersion, so it
// can only be two writers creating the stream at once; a conditional patch's
// caller reads again). A field-ownership conflict of server-side apply is
// not one: another attempt gets it again. Transient errors are not retried
// here; the step's client has done that (apiretry).
func isConcurrencyConflict(err error) bool {
	return apierrors.IsConflict(err) && !isApplyConflict(err)
}

// isApplyConflict tells a field-ownership conflict of server-side apply
// (which retrying cannot fix) from an optimistic-concurrency one.
func isApplyConflict(err error) bool {
	return apierrors.HasStatusCause(err, metav1.CauseTypeFieldManagerConflict)
}
