package fakeopenshift

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

func pullSecret(name, host, user, password string, typ corev1.SecretType) *corev1.Secret {
	auths := map[string]any{host: map[string]string{"username": user, "password": password}}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}, Type: typ, Data: map[string][]byte{}}
	if typ == corev1.SecretTypeDockerConfigJson {
		data, _ := json.Marshal(map[string]any{"auths": auths})
		s.Data[corev1.DockerConfigJsonKey] = data
	} else {
		data, _ := json.Marshal(auths)
		s.Data[corev1.DockerConfigKey] = data
	}
	return s
}

// TestPrivateRepositoryNeedsAPullSecret: a pod whose image is in a private
// repository waits in ErrImagePull unless the pod or its service account
// names a pull secret with the registry's login; public repositories need
// none.
func TestPrivateRepositoryNeedsAPullSecret(t *testing.T) {
	testCases := []struct {
		name      string
		configure func(*corev1.Pod)
		secret    *corev1.Secret
		sa        *corev1.ServiceAccount
		wantPull  bool
	}{
		{name: "no pull secret", wantPull: false},
		{name: "wrong password", secret: pullSecret("pull", registry.DefaultHost, "ci", "wrong", corev1.SecretTypeDockerConfigJson),
			configure: func(p *corev1.Pod) { p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}} }, wantPull: false},
		{name: "pod imagePullSecrets", secret: pullSecret("pull", registry.DefaultHost, "ci", "secret", corev1.SecretTypeDockerConfigJson),
			configure: func(p *corev1.Pod) { p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}} }, wantPull: true},
		{name: "service account imagePullSecrets", secret: pullSecret("registry-pull-credentials", registry.DefaultHost, "ci", "secret", corev1.SecretTypeDockercfg),
			sa:        &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci-operator", Namespace: testNamespace}, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "registry-pull-credentials"}}},
			configure: func(p *corev1.Pod) { p.Spec.ServiceAccountName = "ci-operator" }, wantPull: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			rel := addRelease(c, 1)
			c.Registry().Private(registry.DefaultHost+"/ocp/", "ci", "secret")
			cl := c.Client("step")
			if tc.secret != nil {
				if err := cl.Create(t.Context(), tc.secret); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sa != nil {
				if err := cl.Create(t.Context(), tc.sa); err != nil {
					t.Fatal(err)
				}
			}
			pod := programPod("p", rel.PullSpec, "/usr/bin/cluster-version-operator", "image", "cli")
			if tc.configure != nil {
				tc.configure(pod)
			}
			createPod(t, cl, pod)
			_, got := watchPod(t, cl, pod, func(p *corev1.Pod) bool {
				return podDone(p) || (len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Waiting != nil)
			})
			if tc.wantPull {
				if got.Status.Phase != corev1.PodSucceeded {
					t.Errorf("pod is %s (%+v), want Succeeded", got.Status.Phase, got.Status.ContainerStatuses)
				}
				return
			}
			waiting := got.Status.ContainerStatuses[0].State.Waiting
			if got.Status.Phase != corev1.PodPending || waiting == nil || waiting.Reason != "ErrImagePull" {
				t.Errorf("pod is %s, container %+v; want Pending in ErrImagePull", got.Status.Phase, got.Status.ContainerStatuses[0].State)
			}
		})
	}
}

// TestPrivateRepositoryImportNeedsNamespaceCredentials: an import of an
// image in a private repository fails with reason Unauthorized unless the
// stream's namespace has a docker config secret with the registry's login,
// as OpenShift's import does.
func TestPrivateRepositoryImportNeedsNamespaceCredentials(t *testing.T) {
	c := newStoreOnlyCluster(t)
	rel := addRelease(c, 1)
	c.Registry().Private(registry.DefaultHost+"/ocp/", "ci", "secret")
	cl := c.Client("p")
	isi := streamImport("s", true, imageImport(rel.PullSpec, "t", imagev1.ImportModePreserveOriginal))
	if err := cl.Create(t.Context(), isi); err != nil {
		t.Fatal(err)
	}
	if got := isi.Status.Images[0].Status; got.Status != metav1.StatusFailure || got.Reason != "Unauthorized" {
		t.Errorf("import without credentials: %s %s, want Failure Unauthorized", got.Status, got.Reason)
	}
	if err := cl.Create(t.Context(), pullSecret("dockercfg", registry.DefaultHost, "ci", "secret", corev1.SecretTypeDockercfg)); err != nil {
		t.Fatal(err)
	}
	isi = streamImport("s", true, imageImport(rel.PullSpec, "t", imagev1.ImportModePreserveOriginal))
	if err := cl.Create(t.Context(), isi); err != nil {
		t.Fatal(err)
	}
	if got := isi.Status.Images[0].Status; got.Status != metav1.StatusSuccess {
		t.Errorf("import with the namespace's credentials: %s %s %s, want Success", got.Status, got.Reason, got.Message)
	}
}

// TestReleaseExtractOfAPrivatePayloadNeedsARegistryConfig: `oc adm release
// extract` of a payload in a private repository fails, as oc does, unless
// --registry-config names a docker config that a secret volume of the pod
// provides (the pull secret mounted at /pull).
func TestReleaseExtractOfAPrivatePayloadNeedsARegistryConfig(t *testing.T) {
	testCases := []struct {
		name     string
		flag     string
		mount    bool
		wantDone corev1.PodPhase
	}{
		{name: "no registry config", wantDone: corev1.PodFailed},
		{name: "registry config not mounted", flag: " --registry-config=/pull/.dockerconfigjson", wantDone: corev1.PodFailed},
		{name: "pull secret mounted at /pull", flag: " --registry-config=/pull/.dockerconfigjson", mount: true, wantDone: corev1.PodSucceeded},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			rel := addRelease(c, 2)
			c.Registry().Private(rel.PullSpec, "ci", "secret")
			cl := c.Client("step")
			if err := cl.Create(t.Context(), pullSecret("registry-pull-credentials", registry.DefaultHost, "ci", "secret", corev1.SecretTypeDockerConfigJson)); err != nil {
				t.Fatal(err)
			}
			script := "oc adm release extract --from=" + rel.PullSpec + " --file=image-references" + tc.flag + " > /dev/termination-log"
			pod := programPod("extract", rel.CLIPullSpec, "/bin/bash", "-c", script)
			pod.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
			if tc.mount {
				pod.Spec.Volumes = []corev1.Volume{{Name: "pull-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "registry-pull-credentials"}}}}
				pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "pull-secret", MountPath: "/pull", ReadOnly: true}}
			}
			_, done := watchPod(t, cl, createPod(t, cl, pod), podDone)
			term := terminated(t, done)
			if done.Status.Phase != tc.wantDone {
				t.Fatalf("pod %s (%q), want %s", done.Status.Phase, term.Message, tc.wantDone)
			}
			if tc.wantDone == corev1.PodFailed && !strings.Contains(term.Message, "may not have access") {
				t.Errorf("failure %q does not say the image is not accessible", term.Message)
			}
		})
	}
}

// TestPodImageResolvedThroughLocalLookupPolicy: as OpenShift's image policy
// admission does, a pod image "stream:tag" is resolved through the stream of
// the pod's namespace when it has lookupPolicy.local and the tag an image;
// other images are left as they are.
func TestPodImageResolvedThroughLocalLookupPolicy(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("step")
	for _, local := range []bool{true, false} {
		is := newStream(map[bool]string{true: "release", false: "nolookup"}[local], dockerTag("latest", rel.PullSpec))
		is.Spec.LookupPolicy.Local = local
		createStream(t, cl, is)
		waitForStream(t, cl, is.Name, "imported", imported("latest"))
	}
	for i, tc := range []struct{ image, want string }{
		{image: "release:latest", want: rel.DigestPullSpec},
		{image: "release:missing", want: "release:missing"},
		{image: "nolookup:latest", want: "nolookup:latest"},
		{image: rel.PullSpec, want: rel.PullSpec},
	} {
		pod := createPod(t, cl, programPod("p-"+strconv.Itoa(i), tc.image, "true"))
		if got := pod.Spec.Containers[0].Image; got != tc.want {
			t.Errorf("image %s resolved to %s, want %s", tc.image, got, tc.want)
		}
	}
}
