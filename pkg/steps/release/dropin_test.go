package release

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// TestProvidesBeforeAndAfterRun: RELEASE_IMAGE_<NAME> is read from the
// release stream (an error before anything imported it) and
// ORIGINAL_RELEASE_IMAGE_<NAME> is what the run resolved, empty before it,
// as ci-operator's step provides them; reading them never asks the source.
func TestProvidesBeforeAndAfterRun(t *testing.T) {
	testCases := []struct {
		name      string
		resolving bool
		run       bool
		// imported: another process imported the release before this step
		// object was asked.
		imported     bool
		wantRelease  bool
		wantOriginal bool
		wantResolves int64
	}{
		{name: "fixed source, before Run", wantResolves: 0},
		{name: "resolving source, before Run", resolving: true, wantResolves: 0},
		{name: "fixed source, before Run, imported by another process", imported: true, wantRelease: true},
		{name: "resolving source, before Run, imported by another process", resolving: true, imported: true, wantRelease: true},
		{name: "fixed source, after Run", run: true, wantRelease: true, wantOriginal: true, wantResolves: 1},
		{name: "resolving source, after Run", resolving: true, run: true, wantRelease: true, wantOriginal: true, wantResolves: 1},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 5, "latest")
			pullSpec := env.releases["latest"].PullSpec
			var resolves atomic.Int64
			step := env.step("shard-0", "latest", func(c *Config) {
				if tc.resolving {
					c.Source = NewResolvingSource("release-controller/4.18/latest", func(context.Context) (string, error) {
						resolves.Add(1)
						return pullSpec, nil
					})
				}
			})
			if tc.imported {
				if err := env.step("other", "latest").Run(t.Context()); err != nil {
					t.Fatalf("the other process's Run: %v", err)
				}
			}
			if tc.run {
				if err := step.Run(t.Context()); err != nil {
					t.Fatalf("Run: %v", err)
				}
			}
			provides := step.Provides()
			if diff := cmp.Diff([]string{api.OriginalReleaseImageEnv("latest"), api.ReleaseImageEnv("latest")}, sortedKeys(provides)); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			release, err := provides[api.ReleaseImageEnv("latest")]()
			wantPrefix := "registry.fake-cluster.test/" + testNamespace + "/release@" + env.releases["latest"].Digest
			switch {
			case tc.wantRelease && (err != nil || release != wantPrefix):
				t.Errorf("RELEASE_IMAGE_LATEST = %v, %v; want %s", release, err, wantPrefix)
			case !tc.wantRelease && err == nil:
				t.Errorf("RELEASE_IMAGE_LATEST = %v before anything was imported", release)
			}
			original, err := provides[api.OriginalReleaseImageEnv("latest")]()
			want := ""
			if tc.wantOriginal {
				want = pullSpec
			}
			if err != nil || original != want {
				t.Errorf("ORIGINAL_RELEASE_IMAGE_LATEST = %v, %v; want %q", original, err, want)
			}
			if tc.resolving && resolves.Load() != tc.wantResolves {
				t.Errorf("the source resolved %d times, want %d", resolves.Load(), tc.wantResolves)
			}
		})
	}
}

func sortedKeys(m api.ParameterMap) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// TestCredentialsAsCIOperatorCreatesThem: the step makes sure of ci-operator's
// account, Role and RoleBinding, and leaves those that exist as they are
// (another step created them; the token controller added the dockercfg).
func TestCredentialsAsCIOperatorCreatesThem(t *testing.T) {
	env := newTestEnv(t, 5, "latest")
	setup := env.cluster.Client("setup")
	existing := &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Namespace: testNamespace, Name: "ci-operator"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "registry-pull-credentials"}, {Name: "ci-operator-dockercfg-abcde"}},
	}
	if err := setup.Create(t.Context(), existing); err != nil {
		t.Fatal(err)
	}
	for _, process := range []string{"shard-0", "shard-1"} {
		if err := env.step(process, "latest").Run(t.Context()); err != nil {
			t.Fatalf("%s: Run: %v", process, err)
		}
	}
	sa := &corev1.ServiceAccount{}
	if err := setup.Get(t.Context(), ctrlruntimeclient.ObjectKeyFromObject(existing), sa); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(existing.ImagePullSecrets, sa.ImagePullSecrets); diff != "" {
		t.Errorf("the existing account was changed (-want +got):\n%s", diff)
	}
	role := &rbacv1.Role{}
	if err := setup.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: "ci-operator-image"}, role); err != nil {
		t.Fatal(err)
	}
	wantRules := []rbacv1.PolicyRule{
		{APIGroups: []string{"", "image.openshift.io"}, Resources: []string{"imagestreams/layers"}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{"", "image.openshift.io"}, Resources: []string{"imagestreams", "imagestreamtags"}, Verbs: []string{"create", "get", "list", "update", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get", "list", "update", "delete"}},
	}
	if diff := cmp.Diff(wantRules, role.Rules); diff != "" {
		t.Errorf("role rules (-want +got):\n%s", diff)
	}
	binding := &rbacv1.RoleBinding{}
	if err := setup.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: "ci-operator-image"}, binding); err != nil {
		t.Fatal(err)
	}
	wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ci-operator", Namespace: testNamespace}}
	if diff := cmp.Diff(wantSubjects, binding.Subjects); diff != "" || binding.RoleRef.Name != "ci-operator-image" || binding.RoleRef.Kind != "Role" {
		t.Errorf("role binding %+v, subjects (-want +got):\n%s", binding.RoleRef, diff)
	}

	// A namespace without the account gets it with the registry credentials.
	fresh := newTestEnv(t, 5, "latest")
	if err := fresh.step("shard-0", "latest").Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := fresh.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: "ci-operator"}, sa); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "registry-pull-credentials"}}, sa.ImagePullSecrets); diff != "" {
		t.Errorf("the created account's pull secrets (-want +got):\n%s", diff)
	}
	pods := fresh.pods(t)
	extract, cli := pods[fresh.extractPodName("latest")], pods[fresh.cliPodName("latest")]
	if extract == nil || cli == nil {
		t.Fatalf("pods: %v", pods)
	}
	if extract.Spec.ServiceAccountName != "ci-operator" || cli.Spec.ServiceAccountName != "default" {
		t.Errorf("the extract pod runs as %q and the CLI pod as %q, want ci-operator and default", extract.Spec.ServiceAccountName, cli.Spec.ServiceAccountName)
	}
	if got := cli.Spec.Containers[0].Image; got != "release:latest" && !strings.HasSuffix(got, "@"+fresh.releases["latest"].Digest) {
		t.Errorf("the CLI pod runs %s", got)
	}
	if got := cli.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(got, "@"+fresh.releases["latest"].Digest) {
		t.Errorf("the CLI pod ran %s, not the payload %s", got, fresh.releases["latest"].Digest)
	}
}

// TestArtifactsOfEveryProcess: every process writes the payload's image
// references into its artifact directory, whether it ran the extract pod or
// found the ConfigMap.
func TestArtifactsOfEveryProcess(t *testing.T) {
	env := newTestEnv(t, 5, "latest")
	dirs := map[string]string{"shard-0": filepath.Join(t.TempDir(), "release"), "shard-1": filepath.Join(t.TempDir(), "release")}
	for _, process := range []string{"shard-0", "shard-1"} {
		if err := env.step(process, "latest", func(c *Config) { c.ArtifactDir = dirs[process] }).Run(t.Context()); err != nil {
			t.Fatalf("%s: Run: %v", process, err)
		}
	}
	assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1, env.extractPodName("latest"): 1})
	cm := &corev1.ConfigMap{}
	_, name, _ := strings.Cut(env.extractPodName("latest"), "/")
	if err := env.cluster.Client("checker").Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	for process, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "release-images-latest"))
		if err != nil {
			t.Fatalf("%s: %v", process, err)
		}
		_, want, err := imageReferencesOf(cm)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(data)); diff != "" {
			t.Errorf("%s: artifact differs from the ConfigMap (-want +got):\n%s", process, diff)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			t.Errorf("%s: artifact directory holds %v (%v), want the one file", process, entries, err)
		}
	}
}

// TestPrivatePayloadWithTheNamespaceCredentials: a payload whose repositories
// are private imports when, as in a ci-operator namespace, the job's
// credentials are the secret registry-pull-credentials, the ci-operator
// account's pull secret and the step's PullSecret. Without them the step
// fails naming the missing authorization.
func TestPrivatePayloadWithTheNamespaceCredentials(t *testing.T) {
	for _, withSecret := range []bool{true, false} {
		t.Run(fmt.Sprintf("credentials in the namespace: %t", withSecret), func(t *testing.T) {
			env := newTestEnv(t, 5, "latest")
			env.cluster.Registry().Private(registry.DefaultHost+"/ocp/", "ci", "s3cret")
			auth := base64.StdEncoding.EncodeToString([]byte("ci:s3cret"))
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: RegistryPullSecret},
				Type:       corev1.SecretTypeDockerConfigJson,
				Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + registry.DefaultHost + `":{"auth":"` + auth + `"}}}`)},
			}
			if withSecret {
				if err := env.cluster.Client("ci-operator").Create(t.Context(), secret); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			err := env.step("shard-0", "latest", func(c *Config) {
				c.PullSecret = secret
				c.StallTimeout = 10 * time.Second
			}).Run(ctx)
			if !withSecret {
				if err == nil || !strings.Contains(err.Error(), "nauthorized") {
					t.Fatalf("Run without the credentials: %v, want an Unauthorized import", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			assertPayloadImported(t, env, "latest", imagev1.SourceTagReferencePolicy)
			pods := env.pods(t)
			for _, name := range []string{env.cliPodName("latest"), env.extractPodName("latest")} {
				if pod := pods[name]; pod == nil || pod.Status.Phase != corev1.PodSucceeded {
					t.Errorf("pod %s: %+v", name, pod)
				}
			}
		})
	}
}
