package release

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// resetForeignFields gives every payload tag of stored (the stream as the
// merge left it) its canonical definition where another writer had set a
// field that definition leaves out: reference, importPolicy.scheduled or
// insecure, from.namespace. The merge's apply cannot reset them — it would
// have to send the false values, and imagestreams.Tag explains why it does
// not — yet a reference tag is never imported, so the wait would stall on it.
//
// The reset is a write conditional on the resourceVersion read: among
// processes that saw the same stream exactly one lands; the others get a
// conflict, read the stream again and find nothing left to do.
func (s *importReleaseStep) resetForeignFields(ctx context.Context, stored, references *imagev1.ImageStream) error {
	want := make(map[string]string, len(references.Spec.Tags))
	for _, tag := range references.Spec.Tags {
		want[tag.Name] = tag.From.Name
	}
	key := ctrlruntimeclient.ObjectKeyFromObject(stored)
	is := stored.DeepCopy()
	err := retry.OnError(applyBackoff, isRetriable, func() error {
		if is == nil {
			is = &imagev1.ImageStream{}
			if err := s.client.Get(ctx, key, is); err != nil {
				return err
			}
		}
		original := is.DeepCopy()
		var reset []string
		for i := range is.Spec.Tags {
			tag := &is.Spec.Tags[i]
			pullSpec, ok := want[tag.Name]
			if !ok || imagestreams.IsCanonical(*tag, pullSpec, s.config.ReferencePolicy) {
				continue
			}
			tag.From = &corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec}
			tag.Reference = false
			tag.ImportPolicy = imagev1.TagImportPolicy{ImportMode: imagestreams.ImportMode}
			tag.ReferencePolicy = imagev1.TagReferencePolicy{Type: s.config.ReferencePolicy}
			reset = append(reset, tag.Name)
		}
		if len(reset) == 0 {
			return nil
		}
		s.log.WithField("tags", reset).Info("Resetting fields that other writers set on payload tags")
		// A merge patch replaces spec.tags whole; the resourceVersion in it
		// makes it conditional. (A patch, not an update: the step's Role
		// allows patch, which its applies need anyway.)
		patch := ctrlruntimeclient.MergeFromWithOptions(original, ctrlruntimeclient.MergeFromWithOptimisticLock{})
		err := s.client.Patch(ctx, is, patch, ctrlruntimeclient.FieldOwner(imagestreams.ManagerPayload))
		// Whatever the answer, the next attempt decides on a fresh read.
		is = nil
		return err
	})
	if err != nil {
		return fmt.Errorf("could not reset the payload tags of image stream %s/%s: %w", key.Namespace, key.Name, err)
	}
	return nil
}
