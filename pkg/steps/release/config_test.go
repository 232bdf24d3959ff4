package release

import (
	"context"
	"errors"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// configImages is the payload size of the tests of Config's fields: they are
// about what the step writes, not about how long imports take.
const configImages = 8

// pods returns the pods in the test namespace by name.
func (e *testEnv) pods(t *testing.T) map[string]*corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := e.cluster.Client("checker").List(t.Context(), list, ctrlruntimeclient.InNamespace(testNamespace)); err != nil {
		t.Fatalf("could not list pods: %v", err)
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		out[testNamespace+"/"+list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// specTagNamed returns the spec tag called name, or nil.
func specTagNamed(is *imagev1.ImageStream, name string) *imagev1.TagReference {
	for i := range is.Spec.Tags {
		if is.Spec.Tags[i].Name == name {
			return &is.Spec.Tags[i]
		}
	}
	return nil
}

// assertPayloadImported checks that every payload tag of name is in its
// stable stream with the canonical definition for policy and imported from
// the payload, and that release:<name> is too.
func assertPayloadImported(t *testing.T, env *testEnv, name string, policy imagev1.TagReferencePolicyType) {
	t.Helper()
	rel := env.releases[name]
	is := env.stream(t, api.ReleaseStreamFor(name))
	for _, tag := range rel.Tags {
		spec := specTagNamed(is, tag.Name)
		if spec == nil || !imagestreams.IsCanonical(*spec, tag.PullSpec, policy) {
			t.Errorf("%s:%s is not canonical for reference policy %s: %+v", is.Name, tag.Name, policy, spec)
		}
		if st := imagestreams.StateOf(is, tag.Name); st.Phase != imagestreams.Imported || st.Image != tag.Digest {
			t.Errorf("%s:%s is %s with image %q, want Imported %s", is.Name, tag.Name, st.Phase, st.Image, tag.Digest)
		}
	}
	release := env.stream(t, api.ReleaseImageStream)
	spec := specTagNamed(release, name)
	if spec == nil || !imagestreams.IsCanonical(*spec, rel.PullSpec, policy) {
		t.Errorf("release:%s is not canonical for reference policy %s: %+v", name, policy, spec)
	}
	if st := imagestreams.StateOf(release, name); st.Phase != imagestreams.Imported || st.Image != rel.Digest {
		t.Errorf("release:%s is %s with image %q, want Imported %s", name, st.Phase, st.Image, rel.Digest)
	}
}

func TestOverrideCLIImage(t *testing.T) {
	testCases := []struct {
		name string
		// override returns the override pull spec: a CLI image of the
		// registry's.
		override func(env *testEnv) string
		policy   imagev1.TagReferencePolicyType
	}{
		{
			name:     "the payload's own CLI image",
			override: func(env *testEnv) string { return env.releases["latest"].CLIPullSpec },
		},
		{
			// Not the image the payload would name, so a pod that runs the
			// payload's CLI could not pass for the override's.
			name: "the CLI image of another release",
			override: func(env *testEnv) string {
				return env.cluster.Registry().AddRelease("4.17.0-0.ci-2026-01-01-000000", registry.WithImages(3)).CLIPullSpec
			},
		},
		{
			name: "the CLI image of another release, local reference policy",
			override: func(env *testEnv) string {
				return env.cluster.Registry().AddRelease("4.17.0-0.ci-2026-01-01-000000", registry.WithImages(3)).CLIPullSpec
			},
			policy: imagev1.LocalTagReferencePolicy,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, configImages, "latest")
			override := tc.override(env)
			policy := tc.policy
			if policy == "" {
				policy = imagev1.SourceTagReferencePolicy
			}
			overrideImage, err := env.cluster.Registry().Resolve(t.Context(), override)
			if err != nil || overrideImage.Kind != registry.KindCLI {
				t.Fatalf("the registry does not resolve %s to a CLI image: %v", override, err)
			}

			err = env.step("shard-0", "latest", func(c *Config) {
				c.OverrideCLIImage = override
				c.ReferencePolicy = tc.policy
			}).Run(t.Context())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}

			cli := env.stream(t, OverrideCLIStream)
			spec := specTagNamed(cli, "latest")
			if spec == nil || !imagestreams.IsCanonical(*spec, override, policy) {
				t.Errorf("%s:latest is not canonical for %s with reference policy %s: %+v", OverrideCLIStream, override, policy, spec)
			}
			st := imagestreams.StateOf(cli, "latest")
			if st.Phase != imagestreams.Imported || st.Image != overrideImage.Digest {
				t.Errorf("%s:latest is %s with image %q, want Imported %s", OverrideCLIStream, st.Phase, st.Image, overrideImage.Digest)
			}
			if !cli.Spec.LookupPolicy.Local {
				t.Errorf("%s has lookupPolicy.local=false", OverrideCLIStream)
			}
			key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: OverrideCLIStream, Tag: "latest"}
			if got := env.cluster.Stats().Imports[key]; got != 1 {
				t.Errorf("%s imported %d times, want once", key, got)
			}

			// No pod asked the payload for its CLI image: only the extract
			// pod ran, in the override.
			assertPodsCreated(t, env, map[string]int{env.extractPodName("latest"): 1})
			pods := env.pods(t)
			if len(pods) != 1 {
				t.Errorf("pods in the namespace: %v, want only the extract pod", slices.Sorted(maps.Keys(pods)))
			}
			extract, ok := pods[env.extractPodName("latest")]
			if !ok {
				t.Fatalf("extract pod %s is gone", env.extractPodName("latest"))
			}
			if got := extract.Spec.Containers[0].Image; got != st.DockerImageReference || got == "" {
				t.Errorf("extract pod image = %q, want the override as imported, %q", got, st.DockerImageReference)
			}
			assertPayloadImported(t, env, "latest", policy)
		})
	}
}

func requirements(cpu, memory string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
	}}
}

func TestPodsHonourNodeNameResourcesAndPullSecret(t *testing.T) {
	defaults := requirements("50m", "400Mi")
	all := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	cli := requirements("10m", "100Mi")
	extract := requirements("200m", "800Mi")
	testCases := []struct {
		name        string
		nodeName    string
		pullSecret  string
		resources   map[string]corev1.ResourceRequirements
		wantCLI     corev1.ResourceRequirements
		wantExtract corev1.ResourceRequirements
	}{
		{name: "defaults", wantCLI: defaults, wantExtract: defaults},
		{name: "empty resources", resources: map[string]corev1.ResourceRequirements{}, wantCLI: defaults, wantExtract: defaults},
		{name: "star for both", resources: map[string]corev1.ResourceRequirements{"*": all}, wantCLI: all, wantExtract: all},
		{name: "cli over star", resources: map[string]corev1.ResourceRequirements{"*": all, "cli": cli}, wantCLI: cli, wantExtract: all},
		{name: "extract over star", resources: map[string]corev1.ResourceRequirements{"*": all, "extract": extract}, wantCLI: all, wantExtract: extract},
		{name: "each role its own", resources: map[string]corev1.ResourceRequirements{"cli": cli, "extract": extract}, wantCLI: cli, wantExtract: extract},
		{name: "one role only", resources: map[string]corev1.ResourceRequirements{"extract": extract}, wantCLI: defaults, wantExtract: extract},
		{name: "node name", nodeName: "build-node-7", wantCLI: defaults, wantExtract: defaults},
		{name: "pull secret", pullSecret: "registry-pull-credentials", wantCLI: defaults, wantExtract: defaults},
		{
			name:        "everything",
			nodeName:    "build-node-7",
			pullSecret:  "registry-pull-credentials",
			resources:   map[string]corev1.ResourceRequirements{"*": all, "cli": cli},
			wantCLI:     cli,
			wantExtract: all,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, configImages, "latest")
			var secret *corev1.Secret
			if tc.pullSecret != "" {
				secret = &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: tc.pullSecret},
					Type:       corev1.SecretTypeDockerConfigJson,
					Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
				}
				if err := env.cluster.Client("setup").Create(t.Context(), secret); err != nil {
					t.Fatal(err)
				}
			}
			err := env.step("shard-0", "latest", func(c *Config) {
				c.NodeName = tc.nodeName
				c.Resources = tc.resources
				c.PullSecret = secret
			}).Run(t.Context())
			if err != nil {
				t.Fatalf("Run: %v", err)
			}

			pods := env.pods(t)
			cliPod, extractPod := pods[env.cliPodName("latest")], pods[env.extractPodName("latest")]
			if cliPod == nil || extractPod == nil {
				t.Fatalf("want the CLI pod %s and the extract pod %s, have %v", env.cliPodName("latest"), env.extractPodName("latest"), slices.Sorted(maps.Keys(pods)))
			}
			var wantPullSecrets []corev1.LocalObjectReference
			if tc.pullSecret != "" {
				wantPullSecrets = []corev1.LocalObjectReference{{Name: tc.pullSecret}}
			}
			for _, pc := range []struct {
				pod  *corev1.Pod
				want corev1.ResourceRequirements
			}{{cliPod, tc.wantCLI}, {extractPod, tc.wantExtract}} {
				role := pc.pod.Labels["ci.openshift.io/release-role"]
				wantNode := tc.nodeName
				if wantNode == "" {
					wantNode = fakeopenshift.NodeName // bound by the scheduler
				}
				if got := pc.pod.Spec.NodeName; got != wantNode {
					t.Errorf("%s pod: nodeName = %q, want %q", role, got, wantNode)
				}
				if diff := cmp.Diff(wantPullSecrets, pc.pod.Spec.ImagePullSecrets); diff != "" {
					t.Errorf("%s pod: imagePullSecrets (-want +got):\n%s", role, diff)
				}
				if len(pc.pod.Spec.Containers) != 1 {
					t.Fatalf("%s pod has %d containers, want 1", role, len(pc.pod.Spec.Containers))
				}
				if diff := cmp.Diff(pc.want, pc.pod.Spec.Containers[0].Resources); diff != "" {
					t.Errorf("%s pod: resources (-want +got):\n%s", role, diff)
				}
				if pc.pod.Status.Phase != corev1.PodSucceeded {
					t.Errorf("%s pod is %s, want Succeeded", role, pc.pod.Status.Phase)
				}
			}

			// The extract pod mounts the secret where ci-operator's does and
			// hands it to oc with the integrated registry's credentials.
			container := extractPod.Spec.Containers[0]
			script := container.Command[len(container.Command)-1]
			login := "oc registry login --to=" + DockerConfigPath
			extractFlag := "--registry-config=" + DockerConfigPath
			for _, want := range []string{login, extractFlag} {
				if !strings.Contains(script, want) {
					t.Errorf("extract script does not run %s:\n%s", want, script)
				}
			}
			copyLine := "cp " + path.Join(PullSecretMountPath, corev1.DockerConfigJsonKey) + " " + DockerConfigPath
			if tc.pullSecret == "" {
				if len(extractPod.Spec.Volumes) != 0 || len(container.VolumeMounts) != 0 {
					t.Errorf("extract pod without a pull secret has volumes %+v and mounts %+v", extractPod.Spec.Volumes, container.VolumeMounts)
				}
				if strings.Contains(script, copyLine) {
					t.Errorf("extract script without a pull secret copies one:\n%s", script)
				}
				return
			}
			var volume *corev1.Volume
			for i := range extractPod.Spec.Volumes {
				if s := extractPod.Spec.Volumes[i].Secret; s != nil && s.SecretName == tc.pullSecret {
					volume = &extractPod.Spec.Volumes[i]
				}
			}
			if volume == nil {
				t.Fatalf("extract pod has no volume of secret %s: %+v", tc.pullSecret, extractPod.Spec.Volumes)
			}
			var mount *corev1.VolumeMount
			for i := range container.VolumeMounts {
				if container.VolumeMounts[i].Name == volume.Name {
					mount = &container.VolumeMounts[i]
				}
			}
			if mount == nil {
				t.Fatalf("extract container does not mount volume %s: %+v", volume.Name, container.VolumeMounts)
			}
			if !mount.ReadOnly || mount.MountPath != PullSecretMountPath {
				t.Errorf("the pull secret is mounted at %s (read-only %t), want %s read-only", mount.MountPath, mount.ReadOnly, PullSecretMountPath)
			}
			if !strings.Contains(script, copyLine+"\n"+login+"\n") {
				t.Errorf("extract script does not copy the pull secret before the registry login:\n%s", script)
			}
		})
	}
}

func TestReferencePolicy(t *testing.T) {
	testCases := []struct {
		name   string
		policy imagev1.TagReferencePolicyType
		// failOnce names a payload tag whose first import fails, so that the
		// step re-triggers it.
		failOnce string
		want     imagev1.TagReferencePolicyType
	}{
		{name: "default", want: imagev1.SourceTagReferencePolicy},
		{name: "source", policy: imagev1.SourceTagReferencePolicy, want: imagev1.SourceTagReferencePolicy},
		{name: "local", policy: imagev1.LocalTagReferencePolicy, want: imagev1.LocalTagReferencePolicy},
		// A re-trigger imports with an ImageStreamImport, which sets the
		// tag's reference policy: it must carry Local too.
		{name: "local, re-triggered import", policy: imagev1.LocalTagReferencePolicy, failOnce: "installer", want: imagev1.LocalTagReferencePolicy},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, configImages, "latest")
			rel := env.releases["latest"]
			wantImports := map[string]int{}
			if tc.failOnce != "" {
				env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: env.tag(t, "latest", tc.failOnce).PullSpec, FailFirst: 1})
				wantImports[tc.failOnce] = 2
			}
			step := env.step("shard-0", "latest", func(c *Config) { c.ReferencePolicy = tc.policy })
			if err := step.Run(t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}

			assertPayloadImported(t, env, "latest", tc.want)
			stats := env.cluster.Stats()
			for _, tag := range rel.Tags {
				key := fakeopenshift.TagKey{Namespace: testNamespace, Stream: "stable", Tag: tag.Name}
				want, ok := wantImports[tag.Name]
				if !ok {
					want = 1
				}
				if got := stats.Imports[key]; got != want {
					t.Errorf("%s imported %d times, want %d", key, got, want)
				}
			}
			// Whatever the policy, RELEASE_IMAGE_LATEST is the release
			// stream's repository by the payload's digest.
			got, err := step.Provides()[api.ReleaseImageEnv("latest")]()
			if err != nil {
				t.Fatal(err)
			}
			if want := "registry.fake-cluster.test/" + testNamespace + "/release@" + rel.Digest; got != want {
				t.Errorf("%s = %v, want %s", api.ReleaseImageEnv("latest"), got, want)
			}
		})
	}
}

// managersOf returns the field managers with an entry on obj.
func managersOf(obj metav1.Object) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		out = append(out, mf.Manager)
	}
	return out
}

func TestReleaseConfigAnnotation(t *testing.T) {
	const someoneElse = "someone-else"
	testCases := []struct {
		name    string
		payload string
		// before writes the stable stream before the step runs, as another
		// client does.
		before func(ctx context.Context, cl ctrlruntimeclient.Client) error
		// want is the annotation after the run; "" means none.
		want string
		// wantOwner says whether the step's config manager owns the
		// annotation afterwards.
		wantOwner bool
	}{
		{name: "nobody owns it", payload: "4.18.0-0.nightly-2026-11-20-000000", want: `{"name":"4.18.0-0"}`, wantOwner: true},
		{name: "a release candidate", payload: "4.19.2-rc.1", want: `{"name":"4.19.2-0"}`, wantOwner: true},
		{
			name:    "another manager applied another value",
			payload: "4.18.0-0.nightly-2026-11-20-000000",
			before: func(ctx context.Context, cl ctrlruntimeclient.Client) error {
				ac := imagev1apply.ImageStream("stable", testNamespace).WithAnnotations(map[string]string{api.ReleaseConfigAnnotation: `{"name":"4.17.0-0"}`})
				return cl.Apply(ctx, ac, ctrlruntimeclient.FieldOwner(someoneElse))
			},
			want: `{"name":"4.17.0-0"}`,
		},
		{
			name:    "another manager created the stream with another value",
			payload: "4.18.0-0.nightly-2026-11-20-000000",
			before: func(ctx context.Context, cl ctrlruntimeclient.Client) error {
				is := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{
					Namespace:   testNamespace,
					Name:        "stable",
					Annotations: map[string]string{api.ReleaseConfigAnnotation: `{"name":"4.17.0-0"}`},
				}}
				return cl.Create(ctx, is, ctrlruntimeclient.FieldOwner(someoneElse))
			},
			want: `{"name":"4.17.0-0"}`,
		},
		{
			name:    "another manager applied the same value",
			payload: "4.18.0-0.nightly-2026-11-20-000000",
			before: func(ctx context.Context, cl ctrlruntimeclient.Client) error {
				ac := imagev1apply.ImageStream("stable", testNamespace).WithAnnotations(map[string]string{api.ReleaseConfigAnnotation: `{"name":"4.18.0-0"}`})
				return cl.Apply(ctx, ac, ctrlruntimeclient.FieldOwner(someoneElse))
			},
			want: `{"name":"4.18.0-0"}`,
		},
		{name: "not a semantic version", payload: "nightly-abc"},
		{name: "only major and minor", payload: "4.18-nightly"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, configImages)
			env.releases["latest"] = env.cluster.Registry().AddRelease(tc.payload, registry.WithImages(configImages))
			if tc.before != nil {
				if err := tc.before(t.Context(), env.cluster.Client(someoneElse)); err != nil {
					t.Fatal(err)
				}
			}

			if err := env.step("shard-0", "latest").Run(t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}

			is := env.stream(t, "stable")
			got, ok := is.Annotations[api.ReleaseConfigAnnotation]
			if tc.want == "" && ok {
				t.Errorf("%s = %q, want none", api.ReleaseConfigAnnotation, got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("%s = %q, want %q", api.ReleaseConfigAnnotation, got, tc.want)
			}
			managers := managersOf(is)
			if owns := slices.Contains(managers, imagestreams.ManagerConfig); owns != tc.wantOwner {
				t.Errorf("%s has an entry in managedFields: %v, want %v (managers %v)", imagestreams.ManagerConfig, owns, tc.wantOwner, managers)
			}
			if tc.before != nil && !slices.Contains(managers, someoneElse) {
				t.Errorf("%s lost its managedFields entry: managers %v", someoneElse, managers)
			}
			assertPayloadImported(t, env, "latest", imagev1.SourceTagReferencePolicy)
		})
	}
}

// jobImagesStep stands for the steps that build a job's images into stable:
// it creates the links an appended release waits for.
type jobImagesStep struct {
	run func(ctx context.Context) error
}

var _ api.Step = &jobImagesStep{}

func (s *jobImagesStep) Inputs() (api.InputDefinition, error) { return nil, nil }
func (s *jobImagesStep) Validate() error                      { return nil }
func (s *jobImagesStep) Run(ctx context.Context) error        { return s.run(ctx) }
func (s *jobImagesStep) Name() string                         { return "[images]" }
func (s *jobImagesStep) Description() string                  { return "Build the job's images" }
func (s *jobImagesStep) Requires() []api.StepLink             { return nil }
func (s *jobImagesStep) Creates() []api.StepLink {
	return []api.StepLink{api.ReleaseImagesLink(api.LatestReleaseName), api.ImagesReadyLink()}
}
func (s *jobImagesStep) Provides() api.ParameterMap          { return nil }
func (s *jobImagesStep) Objects() []ctrlruntimeclient.Object { return nil }

func TestAppendedReleasesRunAfterTheJobImages(t *testing.T) {
	testCases := []struct {
		name string
		// noImagesStep leaves the job's images step out of the graph.
		noImagesStep bool
		// imagesFail makes the job's images step fail.
		imagesFail bool
		// wantBuildErr are substrings of the error of graph.Build.
		wantBuildErr []string
	}{
		{name: "images ready"},
		{name: "images failed", imagesFail: true},
		{
			name:         "no step builds the images",
			noImagesStep: true,
			wantBuildErr: []string{`[release:initial] cannot run: no step creates the image stream "stable"`, "[release:latest] cannot run: no step makes the job's images ready"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, configImages, "initial", "latest")
			// A component the job builds, pushed somewhere the registry knows.
			built := env.cluster.Registry().AddRelease("4.17.0-0.ci-2026-01-01-000000", registry.WithImages(3)).Tags[1]
			builder := env.cluster.Client("builder")
			var shardRequestsBeforeImages int
			images := &jobImagesStep{run: func(ctx context.Context) error {
				shardRequestsBeforeImages = env.cluster.Stats().RequestsBy(isShard)
				if tc.imagesFail {
					return errors.New("could not build my-component")
				}
				is := &imagev1.ImageStream{
					ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "stable"},
					Spec: imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{
						{Name: "my-component", From: &corev1.ObjectReference{Kind: "DockerImage", Name: built.PullSpec}},
					}},
				}
				if err := builder.Create(ctx, is); err != nil {
					return err
				}
				_, err := imagestreams.WaitForImports(ctx, builder, testNamespace, "stable", []string{"my-component"})
				return err
			}}
			appended := func(c *Config) { c.Append = true }
			steps := []api.Step{env.step("shard-0", "initial", appended), env.step("shard-0", "latest", appended)}
			if !tc.noImagesStep {
				steps = append(steps, images)
			}

			g, err := graph.Build(steps)
			if len(tc.wantBuildErr) > 0 {
				if err == nil {
					t.Fatal("graph.Build accepted appended releases without the job's images")
				}
				for _, want := range tc.wantBuildErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("graph.Build error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("graph.Build: %v", err)
			}
			var events []string
			results, err := g.Run(t.Context(), graph.WithObserver(func(ev graph.Event) {
				events = append(events, string(ev.Type)+" "+ev.Step)
			}))
			stats := env.cluster.Stats()

			if tc.imagesFail {
				if err == nil {
					t.Fatal("the graph succeeded although the images failed")
				}
				wantEvents := []string{"started [images]", "finished [images]", "skipped [release:initial]", "skipped [release:latest]"}
				if diff := cmp.Diff(wantEvents, events); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				for _, res := range results[:2] {
					if !res.Skipped {
						t.Errorf("%s was not skipped: %+v", res.Name, res)
					}
				}
				if n := stats.RequestsBy(isShard); n != 0 {
					t.Errorf("the import steps made %d requests, want none\n%s", n, stats.Report())
				}
				if len(stats.PodsCreated) != 0 {
					t.Errorf("pods were created: %v", stats.PodsCreated)
				}
				return
			}

			if err != nil {
				t.Fatalf("graph.Run: %v", err)
			}
			if shardRequestsBeforeImages != 0 {
				t.Errorf("the import steps made %d requests before the images step ran", shardRequestsBeforeImages)
			}
			imagesDone := slices.Index(events, "finished [images]")
			for _, name := range []string{"[release:initial]", "[release:latest]"} {
				if started := slices.Index(events, "started "+name); started < imagesDone {
					t.Errorf("%s started before the images were ready: %v", name, events)
				}
				if !slices.Contains(events, "finished "+name) {
					t.Errorf("%s did not finish: %v", name, events)
				}
			}
			for _, res := range results {
				if res.Err != nil || res.Skipped {
					t.Errorf("%s: err %v, skipped %v", res.Name, res.Err, res.Skipped)
				}
			}
			assertPayloadImported(t, env, "initial", imagev1.SourceTagReferencePolicy)
			assertPayloadImported(t, env, "latest", imagev1.SourceTagReferencePolicy)
			// The appended payload joined the job's images in stable.
			stable := env.stream(t, "stable")
			if spec := specTagNamed(stable, "my-component"); spec == nil || spec.From == nil || spec.From.Name != built.PullSpec {
				t.Errorf("my-component was lost or changed: %+v", spec)
			}
			if st := imagestreams.StateOf(stable, "my-component"); st.Phase != imagestreams.Imported || st.Image != built.Digest {
				t.Errorf("my-component: %s", st)
			}
			if got, want := len(stable.Spec.Tags), len(env.releases["latest"].Tags)+1; got != want {
				t.Errorf("stable has %d tags, want %d (the payload's and my-component)", got, want)
			}
			assertPodsCreated(t, env, map[string]int{
				env.cliPodName("initial"): 1, env.extractPodName("initial"): 1,
				env.cliPodName("latest"): 1, env.extractPodName("latest"): 1,
			})
		})
	}
}
