package release

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// importPayload applies release:<name> and the stable stream, waits until
// the payload is imported and returns the release stream and the payload's
// pull spec by digest.
func (s *importReleaseStep) importPayload(ctx context.Context, namespace, stable, source string) (*imagev1.ImageStream, string, error) {
	name := s.config.Name
	s.observe(Progress{Stage: "release", Total: 1})
	if err := s.ensureStreams(ctx, namespace, stable, source); err != nil {
		return nil, "", err
	}
	releaseIS, err := s.waitForImports(ctx, namespace, api.ReleaseImageStream, []string{name}, "release")
	if err != nil {
		return nil, "", fmt.Errorf("could not import the release payload %s: %w", source, err)
	}
	s.record("ImageStream", releaseIS)
	payload := imagestreams.StateOf(releaseIS, name).DockerImageReference
	s.log.WithField("payload", payload).Infof("Imported release payload %s", payload)
	return releaseIS, payload, nil
}

// finish checks, before the run reports success, that the release name
// still holds this payload — release:<name> imported from it, its tags
// merged into the stable stream — and marks the payload record complete.
func (s *importReleaseStep) finish(ctx context.Context, claim *payloadClaim, merger bool, releaseIS *imagev1.ImageStream, source, payload string, images int) error {
	namespace, name := s.jobSpec.Namespace(), s.config.Name
	stable := api.ReleaseStreamFor(name)
	err := claim.complete(ctx, merger, func() error {
		release, current := &imagev1.ImageStream{}, &imagev1.ImageStream{}
		if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: api.ReleaseImageStream}, release); err != nil {
			return fmt.Errorf("could not read image stream %s/%s: %w", namespace, api.ReleaseImageStream, err)
		}
		if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stable}, current); err != nil {
			return fmt.Errorf("could not read image stream %s/%s: %w", namespace, stable, err)
		}
		st := imagestreams.StateOf(release, name)
		merged := current.Annotations[MergedAnnotation]
		if st.Source != source || st.DockerImageReference != payload || merged != payload {
			return fmt.Errorf("release %s in namespace %s changed under this import of %s: release:%s is %s from %s, %s holds the images of %q",
				name, namespace, payload, name, st.DockerImageReference, st.Source, stable, merged)
		}
		return nil
	})
	if err != nil {
		return err
	}
	releaseImage := imagestreams.RepositoryPullSpecFor(releaseIS, name)
	s.mu.Lock()
	s.releaseImage = releaseImage
	s.mu.Unlock()
	s.observe(Progress{Stage: "done", Imported: images, Total: images})
	s.log.WithField("releaseImage", releaseImage).Debug("Recorded the release image")
	return nil
}

// ensureStreams applies release:<name> and the stable stream unless they
// hold their canonical definitions already, as read from the run's watches
// of both (which the waits that follow use anyway): the processes after the
// first send no write.
func (s *importReleaseStep) ensureStreams(ctx context.Context, namespace, stable, source string) error {
	name := s.config.Name
	current, err := s.readStream(ctx, namespace, api.ReleaseImageStream)
	if err != nil {
		return err
	}
	if !current.Spec.LookupPolicy.Local || !hasCanonicalTag(current, name, source, s.config.ReferencePolicy) {
		release := imagestreams.Stream(namespace, api.ReleaseImageStream).
			WithSpec(imagev1apply.ImageStreamSpec().
				WithLookupPolicy(imagev1apply.ImageLookupPolicy().WithLocal(true)).
				WithTags(imagestreams.Tag(name, source, s.config.ReferencePolicy)))
		if err := s.apply(ctx, release, imagestreams.ReleaseManager(name), true); err != nil {
			return err
		}
	}
	if current, err = s.readStream(ctx, namespace, stable); err != nil {
		return err
	}
	if current.ResourceVersion == "" || !current.Spec.LookupPolicy.Local {
		return s.apply(ctx, imagestreams.Stream(namespace, stable), imagestreams.ManagerStream, true)
	}
	return nil
}

// readStream reads a stream; one that does not exist reads as empty.
func (s *importReleaseStep) readStream(ctx context.Context, namespace, name string) (*imagev1.ImageStream, error) {
	is := &imagev1.ImageStream{}
	if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: name}, is); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("could not read image stream %s/%s: %w", namespace, name, err)
	}
	return is, nil
}

func hasCanonicalTag(is *imagev1.ImageStream, tag, pullSpec string, policy imagev1.TagReferencePolicyType) bool {
	for _, t := range is.Spec.Tags {
		if t.Name == tag {
			return imagestreams.IsCanonical(t, pullSpec, policy)
		}
	}
	return false
}
