package registry

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	imagev1 "github.com/openshift/api/image/v1"
)

const testRelease = "4.18.0-0.nightly-2026-11-20-000000"

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// Stricter than the tag grammar: what real payload tag names look like.
	tagNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// releaseView is everything a Release shows its users, comparable with cmp.
type releaseView struct {
	Name, PullSpec, DigestPullSpec, Digest, CLIPullSpec string
	Tags                                                []Tag
	ImageReferences                                     string
}

func viewOf(rel *Release) releaseView {
	return releaseView{
		Name: rel.Name, PullSpec: rel.PullSpec, DigestPullSpec: rel.DigestPullSpec, Digest: rel.Digest,
		CLIPullSpec: rel.CLIPullSpec, Tags: rel.Tags, ImageReferences: string(rel.ImageReferences()),
	}
}

func TestAddReleaseIsDeterministic(t *testing.T) {
	first := New().AddRelease(testRelease)
	second := New().AddRelease(testRelease)
	if diff := cmp.Diff(viewOf(first), viewOf(second)); diff != "" {
		t.Errorf("two registries generated different releases (-first +second):\n%s", diff)
	}

	if !digestRE.MatchString(first.Digest) {
		t.Errorf("payload digest %q is not sha256:<64 hex>", first.Digest)
	}
	if want := DefaultHost + "/ocp/release:" + testRelease; first.PullSpec != want {
		t.Errorf("PullSpec = %q, want %q", first.PullSpec, want)
	}
	if want := DefaultHost + "/ocp/release@" + first.Digest; first.DigestPullSpec != want {
		t.Errorf("DigestPullSpec = %q, want %q", first.DigestPullSpec, want)
	}

	other := New().AddRelease("4.18.0-0.nightly-2026-11-21-000000")
	if other.Digest == first.Digest {
		t.Errorf("releases %s and %s share the payload digest %s", first.Name, other.Name, first.Digest)
	}
	if other.CLIPullSpec == first.CLIPullSpec {
		t.Errorf("releases %s and %s share the cli image %s", first.Name, other.Name, first.CLIPullSpec)
	}

	// The host is in every pull spec but not in the component digests.
	moved := New(WithHost("localhost:5000")).AddRelease(testRelease)
	if want := "localhost:5000/ocp/release:" + testRelease; moved.PullSpec != want {
		t.Errorf("PullSpec with WithHost = %q, want %q", moved.PullSpec, want)
	}
	if got, want := moved.Tags[0].Digest, first.Tags[0].Digest; got != want {
		t.Errorf("component digest depends on the host: %s != %s", got, want)
	}
}

func TestAddReleaseTags(t *testing.T) {
	testCases := []struct {
		name       string
		opts       []ReleaseOption
		wantImages int
	}{
		{name: "default", wantImages: 190},
		{name: "cli only", opts: []ReleaseOption{WithImages(1)}, wantImages: 1},
		{name: "a few", opts: []ReleaseOption{WithImages(4)}, wantImages: 4},
		{name: "every known tag", opts: []ReleaseOption{WithImages(len(knownTags))}, wantImages: len(knownTags)},
		{name: "one generated tag", opts: []ReleaseOption{WithImages(len(knownTags) + 1)}, wantImages: len(knownTags) + 1},
		{name: "large", opts: []ReleaseOption{WithImages(250)}, wantImages: 250},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rel := New().AddRelease(testRelease, tc.opts...)
			if len(rel.Tags) != tc.wantImages {
				t.Fatalf("got %d tags, want %d", len(rel.Tags), tc.wantImages)
			}
			seen := map[string]bool{}
			var names []string
			for _, tag := range rel.Tags {
				if !tagNameRE.MatchString(tag.Name) {
					t.Errorf("tag name %q does not look like a payload tag", tag.Name)
				}
				if seen[tag.Name] {
					t.Errorf("tag %q appears twice", tag.Name)
				}
				seen[tag.Name] = true
				names = append(names, tag.Name)
				if !digestRE.MatchString(tag.Digest) {
					t.Errorf("tag %s: digest %q is not sha256:<64 hex>", tag.Name, tag.Digest)
				}
				if want := DefaultHost + "/ocp/release-art-dev@" + tag.Digest; tag.PullSpec != want {
					t.Errorf("tag %s: pull spec %q, want %q", tag.Name, tag.PullSpec, want)
				}
			}
			if !slices.IsSorted(names) {
				t.Errorf("tags are not sorted by name: %v", names)
			}
			i := slices.IndexFunc(rel.Tags, func(tag Tag) bool { return tag.Name == CLITag })
			if i < 0 {
				t.Fatalf("no cli tag in %v", names)
			}
			if rel.CLIPullSpec != rel.Tags[i].PullSpec {
				t.Errorf("CLIPullSpec = %q, want the cli tag's %q", rel.CLIPullSpec, rel.Tags[i].PullSpec)
			}
			generated := 0
			for _, name := range names {
				if strings.HasPrefix(name, "component-") {
					generated++
				}
			}
			if want := max(0, tc.wantImages-len(knownTags)); generated != want {
				t.Errorf("got %d generated component-NNN tags, want %d", generated, want)
			}
		})
	}
}

func TestAddReleaseRejectsBadInput(t *testing.T) {
	testCases := []struct {
		name    string
		release string
		opts    []ReleaseOption
	}{
		{name: "empty name", release: ""},
		{name: "name with a space", release: "4.18 nightly"},
		{name: "name with a slash", release: "4.18/nightly"},
		{name: "no images", release: testRelease, opts: []ReleaseOption{WithImages(0)}},
		{name: "negative images", release: testRelease, opts: []ReleaseOption{WithImages(-3)}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			reg := New()
			defer func() {
				if recover() == nil {
					t.Errorf("AddRelease(%q) did not panic", tc.release)
				}
				if _, ok := reg.Release(tc.release); ok {
					t.Errorf("release %q was added", tc.release)
				}
			}()
			reg.AddRelease(tc.release, tc.opts...)
		})
	}
}

func TestImageReferences(t *testing.T) {
	rel := New().AddRelease(testRelease)
	data := rel.ImageReferences()

	for _, want := range []string{
		"{\n  \"kind\": \"ImageStream\",\n  \"apiVersion\": \"image.openshift.io/v1\",\n  \"metadata\": {\n    \"name\": \"" + testRelease + "\",\n    \"creationTimestamp\": null\n  },",
		"\n        \"generation\": null,\n        \"importPolicy\": {},\n        \"referencePolicy\": {\n          \"type\": \"\"\n        }\n",
		"\"lookupPolicy\": {\n      \"local\": false\n    },",
		"\n  \"status\": {\n    \"dockerImageRepository\": \"\"\n  }\n}",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("image-references does not contain %q", want)
		}
	}
	if got, want := bytes.Count(data, []byte(`"generation": null`)), len(rel.Tags); got != want {
		t.Errorf("%d tags have \"generation\": null, want %d", got, want)
	}
	if bytes.HasSuffix(data, []byte("\n")) {
		t.Error("image-references ends with a newline; oc writes none")
	}

	var decoded imagev1.ImageStream
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("image-references does not decode as an ImageStream: %v", err)
	}
	if decoded.Kind != "ImageStream" || decoded.APIVersion != "image.openshift.io/v1" || decoded.Name != testRelease {
		t.Errorf("decoded kind %q, apiVersion %q, name %q", decoded.Kind, decoded.APIVersion, decoded.Name)
	}
	var got []Tag
	for _, tag := range decoded.Spec.Tags {
		if tag.From == nil || tag.From.Kind != "DockerImage" {
			t.Fatalf("tag %s: from %+v, want a DockerImage", tag.Name, tag.From)
		}
		if tag.Generation != nil {
			t.Errorf("tag %s: generation %d, want nil", tag.Name, *tag.Generation)
		}
		if tag.Annotations["io.openshift.build.source-location"] == "" {
			t.Errorf("tag %s: no io.openshift.build.source-location annotation", tag.Name)
		}
		got = append(got, Tag{Name: tag.Name, PullSpec: tag.From.Name, Digest: tag.From.Name[strings.Index(tag.From.Name, "@")+1:]})
	}
	if diff := cmp.Diff(rel.Tags, got); diff != "" {
		t.Errorf("image-references tags differ from Release.Tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&decoded, rel.ImageStream()); diff != "" {
		t.Errorf("ImageStream() differs from the decoded file (-want +got):\n%s", diff)
	}

	// Both accessors hand out copies.
	data[0] = 'X'
	is := rel.ImageStream()
	is.Spec.Tags[0].From.Name = "changed"
	if rel.ImageReferences()[0] != '{' {
		t.Error("changing the returned image-references changed the release")
	}
	if rel.ImageStream().Spec.Tags[0].From.Name == "changed" {
		t.Error("changing the returned ImageStream changed the release")
	}
}

// TestImageReferencesGolden pins the byte layout; run with UPDATE=true to
// regenerate testdata after an intended change.
func TestImageReferencesGolden(t *testing.T) {
	got := New().AddRelease(testRelease, WithImages(5)).ImageReferences()
	golden := filepath.Join("testdata", "image-references.json")
	if os.Getenv("UPDATE") == "true" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatalf("could not update %s: %v", golden, err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("could not read %s: %v", golden, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("image-references differs from %s (-want +got):\n%s", golden, diff)
	}
}
