package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/pods"
)

const (
	// SourceAnnotation on an extracted ConfigMap names the payload it was
	// extracted from.
	SourceAnnotation = "release.openshift.io/source"
	// ImageReferencesKey is the ConfigMap key that holds the payload's
	// image-references as they are (ConfigMaps extracted before the step
	// compressed them).
	ImageReferencesKey = "image-references"
	// ImageReferencesGzipKey is the binaryData key that holds them gzipped:
	// a payload of 2000 images has about 1.3 MB of image-references, over
	// the apiserver's 1 MiB limit on a ConfigMap; gzipped, about a tenth.
	ImageReferencesGzipKey = ImageReferencesKey + ".gz"
	// maxImageReferences bounds the size of the image-references once
	// decompressed.
	maxImageReferences = 64 << 20
)

// extract returns the payload's image references, from the content-addressed
// ConfigMap an extract pod wrote. The digest of its data is checked against
// the payload record (recorded there by the first process that read it), so
// a ConfigMap that was replaced by other content is refused. A ConfigMap
// that is missing although its pod succeeded (it was deleted) is extracted
// again: the Succeeded pod is deleted with a UID precondition, so exactly one
// process replaces it, and run again. The process that created the extract
// pod is the merger: it records the digest and merges; the others follow.
//
// A follower waits for the merger's mark (awaitMark) before it decodes the
// references, and returns the stream with the mark (nil: merge yourself).
func (s *importReleaseStep) extract(ctx context.Context, namespace, cli, payload string, claim *payloadClaim) (references *imagev1.ImageStream, merger bool, marked *imagev1.ImageStream, err error) {
	s.observe(Progress{Stage: "extract", Total: 1})
	name := ExtractName(s.config.Name, payload)
	cm, merger, err := s.extractedConfigMap(ctx, namespace, name, cli, payload, claim)
	if err != nil {
		return nil, false, nil, err
	}
	s.record("ConfigMap", cm)
	if got := cm.Annotations[SourceAnnotation]; got != payload {
		return nil, false, nil, fmt.Errorf("ConfigMap %s/%s holds the references of %q, not of %q", namespace, name, got, payload)
	}
	if !merger {
		if marked, err = s.awaitMark(ctx, namespace, api.ReleaseStreamFor(s.config.Name), payload, claim); err != nil {
			return nil, false, nil, err
		}
	}
	stored, data, err := imageReferencesOf(cm)
	if err != nil {
		return nil, false, nil, err
	}
	sum := sha256.Sum256(stored)
	if err := claim.recordConfigMap(ctx, name, hex.EncodeToString(sum[:]), merger); err != nil {
		return nil, false, nil, err
	}
	references, err = DecodeImageReferences(data)
	if err != nil {
		return nil, false, nil, fmt.Errorf("ConfigMap %s/%s: %w", namespace, name, err)
	}
	if err := s.saveArtifact(string(data)); err != nil {
		return nil, false, nil, err
	}
	return references, merger, marked, nil
}

// extractAttempts bounds how often a ConfigMap that vanished after its pod
// succeeded is extracted again within one run.
const extractAttempts = 2

// extractedConfigMap reads the ConfigMap, running the extract pod when there
// is none; created says whether this process created the pod.
func (s *importReleaseStep) extractedConfigMap(ctx context.Context, namespace, name, cli, payload string, claim *payloadClaim) (cm *corev1.ConfigMap, created bool, err error) {
	key := ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: name}
	// The leader creates the pod; the process whose delete of a pod whose
	// ConfigMap vanished landed creates the next one.
	lead := claim.isLeader()
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
		opts := append(createOptions(lead, s.takeover()), pods.WithBeforeCreate(func(ctx context.Context) error {
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
		lead = err == nil
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return nil, created, fmt.Errorf("could not delete pod %s/%s to extract again: %w", namespace, pod.Name, err)
		}
	}
}

// imageReferencesOf returns what the ConfigMap stores (what its digest is
// taken of) and the image-references it holds: gzipped in binaryData, or
// as they are in data.
func imageReferencesOf(cm *corev1.ConfigMap) (stored, data []byte, err error) {
	if gz, ok := cm.BinaryData[ImageReferencesGzipKey]; ok {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(zr, maxImageReferences+1))
		}
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("ConfigMap %s/%s: could not decompress %s: %w", cm.Namespace, cm.Name, ImageReferencesGzipKey, err)
		case len(data) > maxImageReferences:
			return nil, nil, fmt.Errorf("ConfigMap %s/%s: %s holds more than %d bytes", cm.Namespace, cm.Name, ImageReferencesGzipKey, maxImageReferences)
		}
		return gz, data, nil
	}
	if plain, ok := cm.Data[ImageReferencesKey]; ok {
		return []byte(plain), []byte(plain), nil
	}
	return nil, nil, fmt.Errorf("ConfigMap %s/%s has no %s key", cm.Namespace, cm.Name, ImageReferencesKey)
}
