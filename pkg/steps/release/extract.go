package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

const (
	// SourceAnnotation on an extracted ConfigMap names the payload it was
	// extracted from.
	SourceAnnotation = "release.openshift.io/source"
	// ImageReferencesKey is the ConfigMap key that holds the payload's
	// image-references.
	ImageReferencesKey = "image-references"
	// ServiceAccount is the account the extract pod runs as; it may create
	// and read ConfigMaps in the namespace.
	ServiceAccount = "ci-operator-import-release"
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
	cm, merger, err := s.extractedConfigMap(ctx, namespace, name, cli, payload)
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
	return references, merger, nil
}

// extractAttempts bounds how often a ConfigMap that vanished after its pod
// succeeded is extracted again within one run.
const extractAttempts = 2

// extractedConfigMap reads the ConfigMap, running the extract pod when there
// is none; created says whether this process created the pod.
func (s *importReleaseStep) extractedConfigMap(ctx context.Context, namespace, name, cli, payload string) (cm *corev1.ConfigMap, created bool, err error) {
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
		if err := s.ensureServiceAccount(ctx, namespace); err != nil {
			return nil, created, err
		}
		pod, mine, err := s.runPod(ctx, s.extractPod(namespace, name, cli, payload), "extract")
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

// extractPod runs `oc adm release extract` in the CLI image and stores its
// output in an immutable ConfigMap. `oc create` fails on AlreadyExists; the
// `|| oc get` makes a second writer succeed, since the name guarantees the
// same content.
func (s *importReleaseStep) extractPod(namespace, name, cli, payload string) *corev1.Pod {
	pod := s.pod(namespace, name, "extract")
	pod.Spec.ServiceAccountName = ServiceAccount
	registryConfig := ""
	if s.config.PullSecret != nil {
		registryConfig = " --registry-config=/etc/pull-secret/.dockerconfigjson"
		pod.Spec.Volumes = []corev1.Volume{{Name: "pull-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: s.config.PullSecret.Name}}}}
	}
	patch := fmt.Sprintf(`{"immutable":true,"metadata":{"annotations":{%q:%q},"labels":{%q:%q}}}`, SourceAnnotation, payload, api.ReleaseLabel, s.config.Name)
	script := fmt.Sprintf(`set -o errexit -o nounset -o pipefail
oc adm release extract --from='%s' --file=image-references%s > /tmp/image-references
oc create configmap '%s' --from-file=%s=/tmp/image-references --dry-run=client -o json > /tmp/configmap.json
oc patch --local --type=merge -f /tmp/configmap.json -o json -p '%s' > /tmp/immutable.json
oc create -f /tmp/immutable.json || oc get -f /tmp/immutable.json -o name
`, payload, registryConfig, name, ImageReferencesKey, patch)
	container := corev1.Container{
		Name:                     "extract",
		Image:                    cli,
		Command:                  []string{"/bin/bash", "-c", script},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		Resources:                s.resources("extract"),
	}
	if s.config.PullSecret != nil {
		container.VolumeMounts = []corev1.VolumeMount{{Name: "pull-secret", MountPath: "/etc/pull-secret", ReadOnly: true}}
	}
	pod.Spec.Containers = []corev1.Container{container}
	return pod
}

// ensureServiceAccount creates the extract pod's account and its permission
// to write ConfigMaps, unless they exist.
func (s *importReleaseStep) ensureServiceAccount(ctx context.Context, namespace string) error {
	objects := []ctrlruntimeclient.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ServiceAccount, Namespace: namespace}},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: ServiceAccount, Namespace: namespace},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get"}}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ServiceAccount, Namespace: namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ServiceAccount},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ServiceAccount, Namespace: namespace}},
		},
	}
	for _, obj := range objects {
		if err := s.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("could not create %T %s/%s: %w", obj, namespace, obj.GetName(), err)
		}
	}
	return nil
}
