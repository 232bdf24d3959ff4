package release

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

const (
	// PayloadAnnotation on a pod of the step names the payload (by digest)
	// the pod works on.
	PayloadAnnotation = "release.openshift.io/payload"
	// PullSecretMountPath is where the extract pod mounts the job's pull
	// secret, as ci-operator's step does.
	PullSecretMountPath = "/pull"
	// DockerConfigPath is the registry configuration the extract pod builds
	// from the pull secret and `oc registry login`, and hands to oc.
	DockerConfigPath = "/tmp/.docker/config.json"
)

// cliPod asks the payload which CLI image it ships. It runs the payload as
// `release:<name>`, a reference relative to the namespace: the cluster
// resolves it through the release stream's local lookup policy when it
// admits the pod, so the pod pulls with the namespace's credentials, as
// ci-operator's step does. The name carries a hash of the payload digest
// the step imported, and checkPinned rejects a pod that ran another one.
func (s *importReleaseStep) cliPod(namespace, payload string) *corev1.Pod {
	pod := s.pod(namespace, CLIPodName(s.config.Name, payload), "cli", payload)
	pod.Spec.Containers = []corev1.Container{{
		Name:  "release",
		Image: api.ReleaseImageStream + ":" + s.config.Name,
		// The program prints the pull spec; a kubelet makes only what is
		// written to the termination-log file the termination message of a
		// container that succeeded.
		Command:                  []string{"/bin/sh", "-c", "/usr/bin/cluster-version-operator image cli > " + corev1.TerminationMessagePathDefault},
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		Resources:                s.resources("cli"),
	}}
	return pod
}

// extractPod runs `oc adm release extract` in the CLI image as the
// ci-operator service account and stores its output gzipped in an immutable
// ConfigMap (in binaryData: `oc create configmap --from-file` puts a file
// that is not UTF-8 there). Credentials are ci-operator's: the job's pull
// secret mounted at /pull is copied into a docker configuration under
// HOME=/tmp, `oc registry login` adds the integrated registry's, and oc
// reads the payload with it. `oc create` fails on AlreadyExists; the
// `|| oc get` makes a second writer succeed, since the name guarantees the
// same content. Every line is one command, without shell variables,
// conditionals or pipes.
func (s *importReleaseStep) extractPod(namespace, name, cli, payload string) *corev1.Pod {
	pod := s.pod(namespace, name, "extract", payload)
	pod.Spec.ServiceAccountName = ServiceAccount
	container := corev1.Container{
		Name:    "extract",
		Image:   cli,
		Command: []string{"/bin/bash", "-c", s.extractScript(name, payload)},
		Env: []corev1.EnvVar{
			{Name: "HOME", Value: "/tmp"},
			{Name: "XDG_RUNTIME_DIR", Value: "/tmp/run"},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		Resources:                s.resources("extract"),
	}
	if s.config.PullSecret != nil {
		pod.Spec.Volumes = []corev1.Volume{{Name: "pull-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: s.config.PullSecret.Name}}}}
		container.VolumeMounts = []corev1.VolumeMount{{Name: "pull-secret", MountPath: PullSecretMountPath, ReadOnly: true}}
	}
	pod.Spec.Containers = []corev1.Container{container}
	return pod
}

func (s *importReleaseStep) extractScript(name, payload string) string {
	patch := fmt.Sprintf(`{"immutable":true,"metadata":{"annotations":{%q:%q},"labels":{%q:%q}}}`, SourceAnnotation, payload, api.ReleaseLabel, s.config.Name)
	lines := []string{
		"set -o errexit -o nounset -o pipefail",
		"mkdir -p /tmp/.docker /tmp/run",
	}
	if s.config.PullSecret != nil {
		lines = append(lines, "cp "+PullSecretMountPath+"/"+corev1.DockerConfigJsonKey+" "+DockerConfigPath)
	}
	lines = append(lines,
		"oc registry login --to="+DockerConfigPath,
		fmt.Sprintf("oc adm release extract --from='%s' --file=image-references --registry-config=%s > /tmp/image-references", payload, DockerConfigPath),
		"gzip -9 -n -c /tmp/image-references > /tmp/image-references.gz",
		fmt.Sprintf("oc create configmap '%s' --from-file=%s=/tmp/image-references.gz --dry-run=client -o json > /tmp/configmap.json", name, ImageReferencesGzipKey),
		fmt.Sprintf("oc patch --local --type=merge -f /tmp/configmap.json -o json -p '%s' > /tmp/immutable.json", patch),
		"oc create -f /tmp/immutable.json || oc get -f /tmp/immutable.json -o name",
	)
	return strings.Join(lines, "\n") + "\n"
}

// pod returns the skeleton every pod of the step shares.
func (s *importReleaseStep) pod(namespace, name, role, payload string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			Labels:      map[string]string{api.ReleaseLabel: s.config.Name, "ci.openshift.io/release-role": role},
			Annotations: map[string]string{PayloadAnnotation: payload},
		},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			NodeName:      s.config.NodeName,
		},
	}
	if s.config.PullSecret != nil {
		pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: s.config.PullSecret.Name}}
	}
	return pod
}

// resources returns the requirements of a pod role: the configured ones, or
// 50m CPU and 400Mi of memory.
func (s *importReleaseStep) resources(role string) corev1.ResourceRequirements {
	if r, ok := s.config.Resources[role]; ok {
		return r
	}
	if r, ok := s.config.Resources["*"]; ok {
		return r
	}
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("50m"),
		corev1.ResourceMemory: resource.MustParse("400Mi"),
	}}
}

// checkPinned fails when a pod ran, or was admitted to run, an image other
// than the payload digest it is named for: `release:<name>` is resolved by
// the cluster, so a tag that moved between the import and the pod's
// creation would otherwise give one payload's name another's answer. The
// cluster rewrites a local name to repository@digest at admission and the
// kubelet reports the digest it ran as the container's imageID; both are
// checked when present.
func checkPinned(pod *corev1.Pod, payload string) error {
	_, digest, ok := strings.Cut(payload, "@")
	if !ok {
		return fmt.Errorf("payload %s is not pinned by digest", payload)
	}
	for _, c := range pod.Spec.Containers {
		if _, got, ok := strings.Cut(c.Image, "@"); ok && got != digest {
			return fmt.Errorf("pod %s/%s was admitted with image %s, not payload %s: %s:%s moved", pod.Namespace, pod.Name, c.Image, payload, api.ReleaseImageStream, pod.Labels[api.ReleaseLabel])
		}
	}
	for _, st := range pod.Status.ContainerStatuses {
		if _, got, ok := strings.Cut(st.ImageID, "@"); ok && got != digest {
			return fmt.Errorf("pod %s/%s ran image %s, not payload %s: %s:%s moved", pod.Namespace, pod.Name, st.ImageID, payload, api.ReleaseImageStream, pod.Labels[api.ReleaseLabel])
		}
	}
	return nil
}
