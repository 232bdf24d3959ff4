package imagestreams

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

func canonicalTag(policy imagev1.TagReferencePolicyType) imagev1.TagReference {
	return imagev1.TagReference{
		Name:            "cli",
		From:            &corev1.ObjectReference{Kind: "DockerImage", Name: testSource},
		ImportPolicy:    imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal},
		ReferencePolicy: imagev1.TagReferencePolicy{Type: policy},
		Generation:      gen(3),
	}
}

func TestIsCanonical(t *testing.T) {
	testCases := []struct {
		name     string
		mutate   func(*imagev1.TagReference)
		policy   imagev1.TagReferencePolicyType
		pullSpec string
		want     bool
	}{
		{name: "canonical", policy: imagev1.SourceTagReferencePolicy, want: true},
		{name: "canonical, default policy is source", want: true},
		{name: "canonical local", policy: imagev1.LocalTagReferencePolicy, mutate: func(t *imagev1.TagReference) { t.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy }, want: true},
		{name: "annotations and generation do not matter", mutate: func(t *imagev1.TagReference) { t.Annotations = map[string]string{"a": "b"}; t.Generation = nil }, want: true},
		{name: "other pull spec", pullSpec: testRef},
		{name: "no from", mutate: func(t *imagev1.TagReference) { t.From = nil }},
		{name: "from an ImageStreamTag", mutate: func(t *imagev1.TagReference) { t.From.Kind = "ImageStreamTag" }},
		{name: "from with a namespace", mutate: func(t *imagev1.TagReference) { t.From.Namespace = "ocp" }},
		{name: "reference", mutate: func(t *imagev1.TagReference) { t.Reference = true }},
		{name: "legacy import mode", mutate: func(t *imagev1.TagReference) { t.ImportPolicy.ImportMode = imagev1.ImportModeLegacy }},
		{name: "no import mode", mutate: func(t *imagev1.TagReference) { t.ImportPolicy.ImportMode = "" }},
		{name: "scheduled", mutate: func(t *imagev1.TagReference) { t.ImportPolicy.Scheduled = true }},
		{name: "insecure", mutate: func(t *imagev1.TagReference) { t.ImportPolicy.Insecure = true }},
		{name: "local where source is wanted", mutate: func(t *imagev1.TagReference) { t.ReferencePolicy.Type = imagev1.LocalTagReferencePolicy }},
		{name: "source where local is wanted", policy: imagev1.LocalTagReferencePolicy},
		{name: "no reference policy", mutate: func(t *imagev1.TagReference) { t.ReferencePolicy.Type = "" }},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			tag := canonicalTag(imagev1.SourceTagReferencePolicy)
			if tc.mutate != nil {
				tc.mutate(&tag)
			}
			pullSpec := tc.pullSpec
			if pullSpec == "" {
				pullSpec = testSource
			}
			if got := IsCanonical(tag, pullSpec, tc.policy); got != tc.want {
				t.Errorf("IsCanonical(%+v) = %v, want %v", tag, got, tc.want)
			}
		})
	}
}

// TestTagIsCanonical checks that what every writer applies is what
// IsCanonical accepts, and that it leaves out what the server would drop or
// own: a false reference and the generation.
func TestTagIsCanonical(t *testing.T) {
	for _, policy := range []imagev1.TagReferencePolicyType{"", imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy} {
		t.Run(policyName(policy), func(t *testing.T) {
			data, err := json.Marshal(Tag("cli", testSource, policy))
			if err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{`"reference"`, `"generation"`, `"scheduled"`, `"insecure"`} {
				if strings.Contains(string(data), field) {
					t.Errorf("the apply configuration sends %s: %s", field, data)
				}
			}
			var tag imagev1.TagReference
			if err := json.Unmarshal(data, &tag); err != nil {
				t.Fatal(err)
			}
			if !IsCanonical(tag, testSource, policy) {
				t.Errorf("Tag(%q) is not canonical: %s", policy, data)
			}
			want := canonicalTag(referencePolicy(policy))
			want.Generation = nil
			if diff := cmp.Diff(want, tag); diff != "" {
				t.Errorf("Tag (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImportSpecCarriesTheCanonicalDefinition(t *testing.T) {
	for _, policy := range []imagev1.TagReferencePolicyType{"", imagev1.LocalTagReferencePolicy} {
		t.Run(policyName(policy), func(t *testing.T) {
			want := imagev1.ImageImportSpec{
				From:            corev1.ObjectReference{Kind: "DockerImage", Name: testSource},
				To:              &corev1.LocalObjectReference{Name: "cli"},
				ImportPolicy:    imagev1.TagImportPolicy{ImportMode: imagev1.ImportModePreserveOriginal},
				ReferencePolicy: imagev1.TagReferencePolicy{Type: referencePolicy(policy)},
			}
			if diff := cmp.Diff(want, ImportSpec("cli", testSource, policy)); diff != "" {
				t.Errorf("ImportSpec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreams(t *testing.T) {
	stream, err := json.Marshal(Stream("ci-op-x", "stable"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"ImageStream","apiVersion":"image.openshift.io/v1","metadata":{"name":"stable","namespace":"ci-op-x"},"spec":{"lookupPolicy":{"local":true}}}`; string(stream) != want {
		t.Errorf("Stream = %s, want %s", stream, want)
	}
	// A manager of tags only must not own lookupPolicy.
	tags, err := json.Marshal(StreamWithTags("ci-op-x", "stable", Tag("cli", testSource, "")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(tags), "lookupPolicy") {
		t.Errorf("StreamWithTags sends lookupPolicy: %s", tags)
	}
	managers := []string{ManagerStream, ManagerCLI, ManagerPayload, ManagerConfig, ReleaseManager("latest"), ReleaseManager("initial")}
	seen := map[string]bool{}
	for _, m := range managers {
		if seen[m] || !strings.HasPrefix(m, FieldManager) {
			t.Errorf("field manager %q is not distinct or lacks the prefix %q", m, FieldManager)
		}
		seen[m] = true
	}
}

func policyName(policy imagev1.TagReferencePolicyType) string {
	if policy == "" {
		return "default"
	}
	return string(policy)
}
