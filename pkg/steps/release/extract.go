package release

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// SourceAnnotation on an extracted ConfigMap names the payload it was
	// extracted from.
	SourceAnnotation = "release.openshift.io/source"
	// ImageReferencesKey is the ConfigMap key that holds the payload's
	// image-references.
	ImageReferencesKey = "image-references"
)

// extract returns the payload's image references, from the content-addressed
// ConfigMap an extract pod wrote. A ConfigMap that exists is used as it is:
// it is immutable and named by the payload's digest, so it can only hold
// that payload's references.
func (s *importReleaseStep) extract(ctx context.Context, namespace, cli, payload string) (*imagev1.ImageStream, error) {
	s.observe(Progress{Stage: "extract", Total: 1})
	name := contentName("release-images-"+s.config.Name, payload)
	cm := &corev1.ConfigMap{}
	err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		if err := s.ensureCredentials(ctx, namespace); err != nil {
			return nil, err
		}
		if _, err := s.runPod(ctx, s.extractPod(namespace, name, cli, payload), "extract"); err != nil {
			return nil, err
		}
		err = s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("pod %s/%s succeeded but did not write ConfigMap %s", namespace, name, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("could not read ConfigMap %s/%s: %w", namespace, name, err)
	}
	s.record("ConfigMap", cm)
	if got := cm.Annotations[SourceAnnotation]; got != payload {
		return nil, fmt.Errorf("ConfigMap %s/%s holds the references of %q, not of %q", namespace, name, got, payload)
	}
	data, ok := cm.Data[ImageReferencesKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no %s key", namespace, name, ImageReferencesKey)
	}
	references, err := DecodeImageReferences([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", namespace, name, err)
	}
	if err := s.saveArtifact(data); err != nil {
		return nil, err
	}
	return references, nil
}
