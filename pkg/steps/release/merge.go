package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// MergedAnnotation on a stable stream is the "merged" mark: the payload (by
// digest) whose tags were merged into it. The merge's own apply sets it, so
// the mark and the tags land in one write, and every process watching the
// stream sees both in one event. A process that finds its payload's mark
// applies no payload tag again: a tag another writer changed after the
// merge (a built image tagged into stable) keeps that writer's definition.
const MergedAnnotation = "ci.openshift.io/import-release-merged"

// merge applies every payload tag into the stable stream in one apply,
// unless the stream holds this payload's mark already, and returns the tags
// to wait for. marked is the stream with the mark as a follower saw it
// (awaitMark); without it the stream is read from the server, and a
// follower whose wait for the mark ran out merges itself.
func (s *importReleaseStep) merge(ctx context.Context, namespace, stable, payload string, references *imagev1.ImageStream, claim *payloadClaim, marked *imagev1.ImageStream) ([]string, error) {
	s.observe(Progress{Stage: "merge", Total: len(references.Spec.Tags)})
	tags := make([]string, 0, len(references.Spec.Tags))
	tagConfigs := make([]*imagev1apply.TagReferenceApplyConfiguration, 0, len(references.Spec.Tags))
	for _, tag := range references.Spec.Tags {
		tags = append(tags, tag.Name)
		tagConfigs = append(tagConfigs, imagestreams.Tag(tag.Name, tag.From.Name, s.config.ReferencePolicy))
	}
	current := marked
	if current == nil {
		// The decision to merge is made on the stream as the server has
		// it, not as the shared watch last brought it.
		current = &imagev1.ImageStream{}
		if err := s.client.WithWatch.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stable}, current); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("could not read image stream %s/%s: %w", namespace, stable, err)
		}
	}
	if current.Annotations[MergedAnnotation] == payload {
		s.logForeignTags(current, references)
		return tags, nil
	}
	// A payload that lost the release name must not write its tags.
	if _, err := claim.checkFresh(ctx); err != nil {
		return nil, err
	}
	// The annotation goes first: the merge must be the last write to the
	// stream, since any write while the import controller imports the
	// payload's tags (in one batch) makes it discard the batch and start over.
	if err := s.applyReleaseConfig(ctx, current, namespace, stable, references.Name); err != nil {
		return nil, err
	}
	s.log.Infof("Merging %d images of release %s into %s", len(tags), references.Name, stable)
	ac := imagestreams.StreamWithTags(namespace, stable, tagConfigs...).WithAnnotations(map[string]string{MergedAnnotation: payload})
	stored, err := s.applyStream(ctx, ac, imagestreams.ManagerPayload, true)
	if err != nil {
		return nil, err
	}
	return tags, s.resetForeignFields(ctx, stored, references)
}

// awaitMark is a follower's wait for the merger's mark, up to the takeover
// time (a merger that died holds nobody up for longer); it returns the
// stream with the mark, or nil when the mark did not come and the follower
// is to merge itself. A follower waits before it decodes the image
// references, so that the merger, on whom everyone waits, has the machine
// to itself for its merge.
func (s *importReleaseStep) awaitMark(ctx context.Context, namespace, stable, payload string, claim *payloadClaim) (*imagev1.ImageStream, error) {
	takeover := s.takeover()
	is, err := waitForMark(ctx, s.client, namespace, stable, payload, takeover, func(ctx context.Context) error {
		_, err := claim.check(ctx)
		return err
	})
	var conflict *PayloadConflictError
	if err == nil || errors.As(err, &conflict) {
		return is, err
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting for the merge into %s/%s: %w", namespace, stable, ctx.Err())
	}
	s.log.Warnf("The payload was not merged into %s within %s; merging it", stable, takeover)
	return nil, nil
}

// logForeignTags says which payload tags other writers changed after the
// merge; the step leaves them to those writers.
func (s *importReleaseStep) logForeignTags(current, references *imagev1.ImageStream) {
	have := make(map[string]imagev1.TagReference, len(current.Spec.Tags))
	for _, tag := range current.Spec.Tags {
		have[tag.Name] = tag
	}
	var changed []string
	for _, tag := range references.Spec.Tags {
		if got, ok := have[tag.Name]; !ok || !imagestreams.IsCanonical(got, tag.From.Name, s.config.ReferencePolicy) {
			changed = append(changed, tag.Name)
		}
	}
	if len(changed) > 0 {
		s.log.WithField("tags", changed).Info("Leaving payload tags that other writers changed after the merge to them")
	}
}

var semverPrefix = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$`)

// applyReleaseConfig sets the release.openshift.io/config annotation for a
// payload named by a semantic version, unless another writer owns it.
func (s *importReleaseStep) applyReleaseConfig(ctx context.Context, current *imagev1.ImageStream, namespace, stable, payloadName string) error {
	m := semverPrefix.FindStringSubmatch(payloadName)
	if m == nil {
		return nil
	}
	config, err := json.Marshal(map[string]string{"name": fmt.Sprintf("%s.%s.%s-0", m[1], m[2], m[3])})
	if err != nil {
		return err
	}
	if current.Annotations[api.ReleaseConfigAnnotation] == string(config) {
		return nil
	}
	ac := imagev1apply.ImageStream(stable, namespace).WithAnnotations(map[string]string{api.ReleaseConfigAnnotation: string(config)})
	err = s.apply(ctx, ac, imagestreams.ManagerConfig, false)
	if isApplyConflict(err) {
		s.log.WithField("annotation", api.ReleaseConfigAnnotation).Info("Leaving the release config annotation to the writer that owns it")
		return nil
	}
	return err
}

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
	err := apiretry.DoIf(ctx, applyBackoff, isConcurrencyConflict, func() error {
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
