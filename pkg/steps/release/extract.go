package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/pods"
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
// ConfigMap an extract pod wrote. The digest of its data is checked against
// the payload record (recorded there by the first process that read it), so
// a ConfigMap that was replaced by other content is refused. A ConfigMap
// that is missing although its pod succeeded (it was deleted) is extracted
// again: the Succeeded pod is deleted with a UID precondition, so exactly one
// process replaces it, and run again. The process that created the extract
// pod is the merger: it records the digest and merges; the others follow.
func (s *importReleaseStep) extract(ctx context.Context, namespace, cli, payload string, claim *payloadClaim) (*imagev1.ImageStream, bool, error) {
	s.observe(Progress{Stage: "extract", Total: 1})
	name := ExtractName(s.config.Name, payload)
	cm, merger, err := s.extractedConfigMap(ctx, namespace, name, cli, payload, claim)
	if err != nil {
		return nil, false, err
	}
	s.record("ConfigMap", cm)
	if got := cm.Annotations[SourceAnnotation]; got != payload {
		return nil, false, fmt.Errorf("ConfigMap %s/%s holds the references of %q, not of %q", namespace, name, got, payload)
	}
	data, ok := cm.Data[ImageReferencesKey]
	if !ok {
		return nil, false, fmt.Errorf("ConfigMap %s/%s has no %s key", namespace, name, ImageReferencesKey)
	}
	sum := sha256.Sum256([]byte(data))
	if err := claim.recordConfigMap(ctx, name, hex.EncodeToString(sum[:]), merger); err != nil {
		return nil, false, err
	}
	references, err := DecodeImageReferences([]byte(data))
	if err != nil {
		return nil, false, fmt.Errorf("ConfigMap %s/%s: %w", namespace, name, err)
	}
	if err := s.saveArtifact(data); err != nil {
		return nil, false, err
	}
	return references, merger, nil
}

// extractAttempts bounds how often a ConfigMap that vanished after its pod
// succeeded is extracted again within one run.
const extractAttempts = 2

// extractedConfigMap reads the ConfigMap, running the extract pod when there
// is none; created says whether this process created the pod.
func (s *importReleaseStep) extractedConfigMap(ctx context.Context, namespace, name, cli, payload string, claim *payloadClaim) (cm *corev1.ConfigMap, created bool, err error) {
	key := ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: name}
	for attempt := 0; ; attempt++ {
		cm = &corev1.ConfigMap{}
		err := s.client.Get(ctx, key, cm)
		switch {
		case err == nil:
			return cm, created, nil
		case !apierrors.IsNotFound(err):
			return nil, created, fmt.Errorf("could not read ConfigMap %s/%s: %w", namespace, name, err)
		case attempt == extractAttempts:
			return nil, created, fmt.Errorf("the extract pod %s/%s succeeded %d times but ConfigMap %s is not there", namespace, name, attempt, name)
		}
		// Only the process that creates the pod needs its credentials.
		opts := append(claim.podOptions(s.takeover()), pods.WithBeforeCreate(func(ctx context.Context) error {
			return s.ensureCredentials(ctx, namespace)
		}))
		pod, mine, err := s.runPod(ctx, s.extractPod(namespace, name, cli, payload), "extract", opts...)
		created = created || mine
		if err != nil {
			return nil, created, err
		}
		if err := s.client.Get(ctx, key, cm); err == nil {
			return cm, created, nil
		} else if !apierrors.IsNotFound(err) {
			return nil, created, fmt.Errorf("could not read ConfigMap %s/%s: %w", namespace, name, err)
		}
		s.log.WithField("pod", pod.Name).Warnf("ConfigMap %s is gone although its pod succeeded; extracting again", name)
		err = s.client.Delete(ctx, pod, ctrlruntimeclient.Preconditions{UID: &pod.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return nil, created, fmt.Errorf("could not delete pod %s/%s to extract again: %w", namespace, pod.Name, err)
		}
	}
}
