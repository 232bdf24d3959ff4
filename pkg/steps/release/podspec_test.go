package release

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

const testPayload = "quay.io/openshift-release-dev/ocp-release@sha256:1111111111111111111111111111111111111111111111111111111111111111"

func specStep(pullSecret string) *importReleaseStep {
	cfg := Config{Name: "latest", NodeName: "node-1"}
	if pullSecret != "" {
		cfg.PullSecret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: pullSecret}}
	}
	return ImportReleaseStep(cfg, nil, nil).(*importReleaseStep)
}

func defaultRequirements() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("400Mi")}}
}

func TestCLIPodRunsTheReleaseTagAsTheDefaultAccount(t *testing.T) {
	for _, pullSecret := range []string{"", "ci-pull-credentials"} {
		t.Run("pull secret "+pullSecret, func(t *testing.T) {
			pod := specStep(pullSecret).cliPod("ci-op-x", testPayload)
			want := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{
					Name:        CLIPodName("latest", testPayload),
					Namespace:   "ci-op-x",
					Labels:      map[string]string{api.ReleaseLabel: "latest", "ci.openshift.io/release-role": "cli"},
					Annotations: map[string]string{PayloadAnnotation: testPayload},
				},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					NodeName:      "node-1",
					Containers: []corev1.Container{{
						Name:                     "release",
						Image:                    "release:latest",
						Command:                  []string{"/bin/sh", "-c", "/usr/bin/cluster-version-operator image cli > /dev/termination-log"},
						TerminationMessagePath:   "/dev/termination-log",
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						Resources:                defaultRequirements(),
					}},
				},
			}
			if pullSecret != "" {
				want.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: pullSecret}}
			}
			if diff := cmp.Diff(want, pod); diff != "" {
				t.Errorf("CLI pod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractPodHandlesCredentialsAsCIOperator(t *testing.T) {
	const cli = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	tail := `oc registry login --to=/tmp/.docker/config.json
oc adm release extract --from='` + testPayload + `' --file=image-references --registry-config=/tmp/.docker/config.json > /tmp/image-references
gzip -9 -n -c /tmp/image-references > /tmp/image-references.gz
oc create configmap 'cm-name' --from-file=image-references.gz=/tmp/image-references.gz --dry-run=client -o json > /tmp/configmap.json
oc patch --local --type=merge -f /tmp/configmap.json -o json -p '{"immutable":true,"metadata":{"annotations":{"release.openshift.io/source":"` + testPayload + `"},"labels":{"ci.openshift.io/release":"latest"}}}' > /tmp/immutable.json
oc create -f /tmp/immutable.json || oc get -f /tmp/immutable.json -o name
`
	head := "set -o errexit -o nounset -o pipefail\nmkdir -p /tmp/.docker /tmp/run\n"
	testCases := []struct {
		name       string
		pullSecret string
		script     string
		volumes    []corev1.Volume
		mounts     []corev1.VolumeMount
		pull       []corev1.LocalObjectReference
	}{
		{name: "no pull secret", script: head + tail},
		{
			name:       "pull secret",
			pullSecret: "ci-pull-credentials",
			script:     head + "cp /pull/.dockerconfigjson /tmp/.docker/config.json\n" + tail,
			volumes:    []corev1.Volume{{Name: "pull-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "ci-pull-credentials"}}}},
			mounts:     []corev1.VolumeMount{{Name: "pull-secret", MountPath: "/pull", ReadOnly: true}},
			pull:       []corev1.LocalObjectReference{{Name: "ci-pull-credentials"}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			pod := specStep(tc.pullSecret).extractPod("ci-op-x", "cm-name", cli, testPayload)
			want := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{
					Name:        "cm-name",
					Namespace:   "ci-op-x",
					Labels:      map[string]string{api.ReleaseLabel: "latest", "ci.openshift.io/release-role": "extract"},
					Annotations: map[string]string{PayloadAnnotation: testPayload},
				},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					NodeName:           "node-1",
					ServiceAccountName: "ci-operator",
					ImagePullSecrets:   tc.pull,
					Volumes:            tc.volumes,
					Containers: []corev1.Container{{
						Name:                     "extract",
						Image:                    cli,
						Command:                  []string{"/bin/bash", "-c", tc.script},
						Env:                      []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}, {Name: "XDG_RUNTIME_DIR", Value: "/tmp/run"}},
						VolumeMounts:             tc.mounts,
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						Resources:                defaultRequirements(),
					}},
				},
			}
			if diff := cmp.Diff(want, pod); diff != "" {
				t.Errorf("extract pod (-want +got):\n%s", diff)
			}
			// One command a line; `A || B` is the one compound form.
			for _, line := range strings.Split(strings.ReplaceAll(strings.TrimSpace(tc.script), " || ", "\n"), "\n") {
				if strings.ContainsAny(line, "$;&`") || strings.Contains(line, "| ") {
					t.Errorf("line %q is more than one plain command", line)
				}
			}
		})
	}
}

func TestCheckPinned(t *testing.T) {
	const other = "quay.io/openshift-release-dev/ocp-release@sha256:9999999999999999999999999999999999999999999999999999999999999999"
	const digestOnly = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	pod := func(image, imageID string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{api.ReleaseLabel: "latest"}}}
		p.Spec.Containers = []corev1.Container{{Name: "release", Image: image}}
		if imageID != "" {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "release", ImageID: imageID}}
		}
		return p
	}
	testCases := []struct {
		name    string
		pod     *corev1.Pod
		payload string
		wantErr string
	}{
		{name: "local name, not run yet", pod: pod("release:latest", ""), payload: testPayload},
		{name: "local name, ran the payload", pod: pod("release:latest", "quay.io/x/y@"+digestOnly), payload: testPayload},
		{name: "rewritten at admission to the payload", pod: pod("image-registry.openshift-image-registry.svc:5000/ci-op-x/release@"+digestOnly, "quay.io/x/y@"+digestOnly), payload: testPayload},
		{name: "rewritten at admission to another payload", pod: pod(other, ""), payload: testPayload, wantErr: "was admitted with image " + other},
		{name: "ran another payload", pod: pod("release:latest", other), payload: testPayload, wantErr: "ran image " + other},
		{name: "payload by tag", pod: pod("release:latest", ""), payload: "quay.io/x/y:4.18", wantErr: "not pinned by digest"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPinned(tc.pod, tc.payload)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
