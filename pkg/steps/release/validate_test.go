package release

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	testCases := []struct {
		name     string
		source   string
		override string
		want     string
	}{
		{name: "empty pull spec", source: "", want: "empty"},
		{name: "not a pull spec", source: "not a pull spec", want: "whitespace"},
		{name: "upper-case path", source: "quay.io/UPPER/x:1", want: "upper-case"},
		{name: "short digest", source: "quay.io/x@sha256:short", want: "digest must be sha256"},
		{name: "no registry host", source: "openshift/release:4.18", want: "registry host"},
		{name: "malformed override CLI image", override: "quay.io/openshift/cli:", want: "override CLI image"},
		{name: "override CLI image without host", override: "cli:latest", want: "override CLI image"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 3, "latest")
			source := env.releases["latest"].PullSpec
			if tc.override == "" {
				source = tc.source
			}
			err := env.step("shard-0", "latest", func(c *Config) {
				c.Source = NewFixedSource(source)
				c.OverrideCLIImage = tc.override
			}).Run(t.Context())
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if got := api.ReasonFor(err); got != "importing_release" {
				t.Errorf("ReasonFor(err) = %q, want importing_release", got)
			}
			stats := env.cluster.Stats()
			if n := stats.RequestsBy(isShard); n != 0 {
				t.Errorf("the step made %d requests before failing, want none\n%s", n, stats.Report())
			}
			if n := stats.WritesBy(isShard); n != 0 {
				t.Errorf("the step made %d writes before failing, want none", n)
			}
			if len(stats.PodsCreated) != 0 {
				t.Errorf("pods were created: %v", stats.PodsCreated)
			}
		})
	}
}

// imageReferences renders an image-references document.
func imageReferences(t *testing.T, apiVersion, kind string, tags ...imagev1.TagReference) string {
	t.Helper()
	is := imagev1.ImageStream{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Name: "4.18.0-0.test"},
		Spec:       imagev1.ImageStreamSpec{Tags: tags},
	}
	data, err := json.Marshal(is)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func dockerTag(name, pullSpec string) imagev1.TagReference {
	return imagev1.TagReference{Name: name, From: &corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec}}
}

const (
	testCLI       = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	testInstaller = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestDecodeImageReferences(t *testing.T) {
	v1 := imagev1.GroupVersion.String()
	testCases := []struct {
		name     string
		data     string
		wantTags []string
		// wantErr are substrings of the error; none means success.
		wantErr []string
	}{
		{
			name:     "valid",
			data:     imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("installer", testInstaller)),
			wantTags: []string{"cli", "installer"},
		},
		{name: "not JSON", data: "image-references", wantErr: []string{"not JSON"}},
		{name: "empty", data: "", wantErr: []string{"not JSON"}},
		{name: "truncated", data: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI))[:40], wantErr: []string{"not JSON"}},
		{name: "trailing data", data: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI)) + " {}", wantErr: []string{"not JSON"}},
		{name: "a tag that is not an object", data: `{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":{"name":"x"},"spec":{"tags":["cli"]}}`, wantErr: []string{"not JSON"}},
		{name: "a ConfigMap", data: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`, wantErr: []string{`a v1 "ConfigMap"`, "not an image.openshift.io/v1 ImageStream"}},
		{name: "another version", data: imageReferences(t, "image.openshift.io/v2", "ImageStream", dockerTag("cli", testCLI)), wantErr: []string{"image.openshift.io/v2"}},
		{name: "a list", data: imageReferences(t, v1, "ImageStreamList", dockerTag("cli", testCLI)), wantErr: []string{`"ImageStreamList"`}},
		{name: "no kind", data: imageReferences(t, "", "", dockerTag("cli", testCLI)), wantErr: []string{"not an image.openshift.io/v1 ImageStream"}},
		{name: "no tags", data: imageReferences(t, v1, "ImageStream"), wantErr: []string{"have no tags"}},
		{
			name:    "duplicate tag",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("installer", testInstaller), dockerTag("installer", testCLI)),
			wantErr: []string{`tag "installer" appears more than once`},
		},
		{
			name:    "invalid tag names",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("-installer", testInstaller), dockerTag("in staller", testInstaller), dockerTag(strings.Repeat("x", 129), testInstaller)),
			wantErr: []string{`tag 1: invalid name "-installer"`, `tag 2: invalid name "in staller"`, "tag 3: invalid name"},
		},
		{name: "empty tag name", data: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("", testInstaller)), wantErr: []string{`tag 1: invalid name ""`}},
		{name: "no cli tag", data: imageReferences(t, v1, "ImageStream", dockerTag("installer", testInstaller)), wantErr: []string{"there is no cli tag"}},
		{
			name:    "tag without from",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), imagev1.TagReference{Name: "installer"}),
			wantErr: []string{`tag "installer" does not point at a DockerImage`},
		},
		{
			name:    "tag from an ImageStreamTag",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), imagev1.TagReference{Name: "installer", From: &corev1.ObjectReference{Kind: "ImageStreamTag", Name: "stable:installer"}}),
			wantErr: []string{`tag "installer" does not point at a DockerImage`},
		},
		{
			name:    "malformed pull spec",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("installer", "quay.io/x@sha256:short")),
			wantErr: []string{`tag "installer"`, "invalid pull spec"},
		},
		{
			name:    "every problem is reported",
			data:    imageReferences(t, v1, "ImageStream", dockerTag("installer", "not a pull spec"), dockerTag("installer", testInstaller), dockerTag("bad name", testInstaller)),
			wantErr: []string{`tag "installer": invalid pull spec`, `appears more than once`, `invalid name "bad name"`, "no cli tag", `invalid image references of "4.18.0-0.test"`},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			is, err := DecodeImageReferences([]byte(tc.data))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("DecodeImageReferences: %v", err)
				}
				var tags []string
				for _, tag := range is.Spec.Tags {
					tags = append(tags, tag.Name)
				}
				if diff := cmp.Diff(tc.wantTags, tags); diff != "" {
					t.Errorf("tags (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatal("DecodeImageReferences accepted invalid image references")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// TestDecodeImageReferencesOfAGeneratedPayload decodes what `oc adm release
// extract --file=image-references` prints for a payload of the fake registry.
func TestDecodeImageReferencesOfAGeneratedPayload(t *testing.T) {
	rel := registry.New().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(60))
	is, err := DecodeImageReferences(rel.ImageReferences())
	if err != nil {
		t.Fatalf("DecodeImageReferences: %v", err)
	}
	var want, got []string
	for _, tag := range rel.Tags {
		want = append(want, tag.Name+"="+tag.PullSpec)
	}
	for _, tag := range is.Spec.Tags {
		got = append(got, tag.Name+"="+tag.From.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if is.Name != rel.Name {
		t.Errorf("name = %q, want %q", is.Name, rel.Name)
	}
}

// TestBadPayloadContentsFailBeforeTheMerge plants a content-addressed
// ConfigMap with bad contents where the step looks for the extracted image
// references, as a broken `oc adm release extract` would leave it.
func TestBadPayloadContentsFailBeforeTheMerge(t *testing.T) {
	v1 := imagev1.GroupVersion.String()
	testCases := []struct {
		name string
		// annotation is the source annotation; "" means the right one.
		annotation string
		data       map[string]string
		want       []string
	}{
		{
			name: "duplicate tags",
			data: map[string]string{ImageReferencesKey: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("installer", testInstaller), dockerTag("installer", testCLI))},
			want: []string{`tag "installer" appears more than once`},
		},
		{
			name: "not an ImageStream",
			data: map[string]string{ImageReferencesKey: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`},
			want: []string{"not an image.openshift.io/v1 ImageStream"},
		},
		{
			name: "invalid tag name",
			data: map[string]string{ImageReferencesKey: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI), dockerTag("in staller", testInstaller))},
			want: []string{`invalid name "in staller"`},
		},
		{
			name: "no cli tag",
			data: map[string]string{ImageReferencesKey: imageReferences(t, v1, "ImageStream", dockerTag("installer", testInstaller))},
			want: []string{"there is no cli tag"},
		},
		{
			name: "no image-references key",
			data: map[string]string{"something-else": "x"},
			want: []string{"has no image-references key"},
		},
		{
			name:       "references of another payload",
			annotation: "quay.io/openshift-release-dev/ocp-release@sha256:3333333333333333333333333333333333333333333333333333333333333333",
			data:       map[string]string{ImageReferencesKey: imageReferences(t, v1, "ImageStream", dockerTag("cli", testCLI))},
			want:       []string{"holds the references of", "sha256:3333"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 5, "latest")
			payload := env.releases["latest"].DigestPullSpec
			annotation := tc.annotation
			if annotation == "" {
				annotation = payload
			}
			cm := &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{
					Namespace:   testNamespace,
					Name:        contentName("release-images-latest", payload),
					Annotations: map[string]string{SourceAnnotation: annotation},
				},
				Data: tc.data,
			}
			if err := env.cluster.Client("other").Create(t.Context(), cm); err != nil {
				t.Fatal(err)
			}

			err := env.step("shard-0", "latest").Run(t.Context())
			if err == nil {
				t.Fatal("Run succeeded")
			}
			for _, want := range append(tc.want, cm.Name) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if got := api.ReasonFor(err); got != "importing_release" {
				t.Errorf("ReasonFor(err) = %q, want importing_release", got)
			}
			// Only the cli tag, which the step needs to extract and writes
			// before it reads the references.
			if diff := cmp.Diff([]string{"cli"}, specTags(env.stream(t, "stable"))); diff != "" {
				t.Errorf("stable tags (-want +got):\n%s", diff)
			}
			// The ConfigMap was found: no extract pod ran.
			assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1})
		})
	}
}

func specTags(is *imagev1.ImageStream) []string {
	var out []string
	for _, tag := range is.Spec.Tags {
		out = append(out, tag.Name)
	}
	return out
}

// TestCLIPodThatPrintsNoPullSpec plants, under the CLI pod's content-addressed
// name, a pod whose termination message is not a pull spec (it prints the
// payload's image references instead); the step adopts it and must refuse
// its answer before writing the cli tag.
func TestCLIPodThatPrintsNoPullSpec(t *testing.T) {
	env := newTestEnv(t, 5, "latest")
	rel := env.releases["latest"]
	_, podName, _ := strings.Cut(env.cliPodName("latest"), "/")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: podName},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:    "release",
				Image:   rel.CLIPullSpec,
				Command: []string{"/bin/bash", "-c", fmt.Sprintf("oc adm release extract --from='%s' --file=image-references", rel.DigestPullSpec)},
			}},
		},
	}
	if err := env.cluster.Client("other").Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}

	err := env.step("shard-0", "latest").Run(t.Context())
	if err == nil {
		t.Fatal("Run succeeded")
	}
	for _, want := range []string{podName, "did not print the CLI image's pull spec", "invalid pull spec"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if diff := cmp.Diff([]string(nil), specTags(env.stream(t, "stable"))); diff != "" {
		t.Errorf("stable tags (-want +got):\n%s", diff)
	}
	// The planted pod was adopted, not replaced, and nothing was extracted.
	assertPodsCreated(t, env, map[string]int{env.cliPodName("latest"): 1})
	if n := env.cluster.Stats().Requests[fakeopenshift.RequestKey{Process: "shard-0", Verb: "create", Kind: "Pod"}]; n != 0 {
		t.Errorf("the step tried to create %d pods, want 0 (the CLI pod existed, and a listing that shows it is adopted)", n)
	}
}

func TestValidate(t *testing.T) {
	testCases := []struct {
		name    string
		config  Config
		wantErr string
	}{
		{name: "valid", config: Config{Name: "latest", Source: NewFixedSource(testCLI)}},
		{name: "local reference policy", config: Config{Name: "initial", Source: NewFixedSource(testCLI), ReferencePolicy: imagev1.LocalTagReferencePolicy}},
		{name: "source reference policy", config: Config{Name: "initial", Source: NewFixedSource(testCLI), ReferencePolicy: imagev1.SourceTagReferencePolicy}},
		{name: "empty name", config: Config{Source: NewFixedSource(testCLI)}, wantErr: "the release name is empty"},
		{name: "no source", config: Config{Name: "latest"}, wantErr: "release latest has no source"},
		{name: "bad reference policy", config: Config{Name: "latest", Source: NewFixedSource(testCLI), ReferencePolicy: "Remote"}, wantErr: `release latest: reference policy "Remote" is neither Source nor Local`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := ImportReleaseStep(tc.config, nil, &api.JobSpec{}).Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("Validate() = %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func linkNames(links []api.StepLink) []string {
	var out []string
	for _, l := range links {
		out = append(out, fmt.Sprint(l))
	}
	return out
}

func TestStepLinksAndNames(t *testing.T) {
	testCases := []struct {
		name         string
		append       bool
		wantRequires []string
		wantCreates  []string
	}{
		{name: "latest", wantCreates: []string{"imagestreamtag/release:latest", "imagestream/stable"}},
		{name: "latest", append: true, wantRequires: []string{"images-ready"}, wantCreates: []string{"imagestreamtag/release:latest"}},
		{name: "initial", wantCreates: []string{"imagestreamtag/release:initial", "imagestream/stable-initial"}},
		{name: "initial", append: true, wantRequires: []string{"imagestream/stable"}, wantCreates: []string{"imagestreamtag/release:initial"}},
		{name: "arm64-latest", wantCreates: []string{"imagestreamtag/release:arm64-latest", "imagestream/stable-arm64-latest"}},
	}
	for _, tc := range testCases {
		t.Run(fmt.Sprintf("%s append=%v", tc.name, tc.append), func(t *testing.T) {
			step := ImportReleaseStep(Config{Name: tc.name, Append: tc.append, Source: NewFixedSource(testCLI)}, nil, &api.JobSpec{})
			if diff := cmp.Diff(tc.wantRequires, linkNames(step.Requires())); diff != "" {
				t.Errorf("Requires (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCreates, linkNames(step.Creates())); diff != "" {
				t.Errorf("Creates (-want +got):\n%s", diff)
			}
			if got, want := step.Name(), "[release:"+tc.name+"]"; got != want {
				t.Errorf("Name() = %q, want %q", got, want)
			}
			if got, want := step.Description(), fmt.Sprintf("Import the release payload %q from an external source", tc.name); got != want {
				t.Errorf("Description() = %q, want %q", got, want)
			}
			inputs, err := step.Inputs()
			if err != nil {
				t.Fatalf("Inputs: %v", err)
			}
			if diff := cmp.Diff(api.InputDefinition{testCLI}, inputs); diff != "" {
				t.Errorf("Inputs (-want +got):\n%s", diff)
			}
			params := step.Provides()
			if _, err := params[api.ReleaseImageEnv(tc.name)](); err == nil {
				t.Errorf("%s is provided before the step ran", api.ReleaseImageEnv(tc.name))
			}
			// As ci-operator's step: empty until Run resolved the source.
			if got, err := params[api.OriginalReleaseImageEnv(tc.name)](); err != nil || got != "" {
				t.Errorf("%s = %v, %v before Run; want it empty", api.OriginalReleaseImageEnv(tc.name), got, err)
			}
		})
	}
}
