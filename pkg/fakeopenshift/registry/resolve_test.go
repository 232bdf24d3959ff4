package registry

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	imagev1 "github.com/openshift/api/image/v1"
)

// imageView is an Image without its Release pointer and manifests, which the
// tests check on their own.
type imageView struct {
	Digest, DockerImageReference, Tag, MediaType string
	Kind                                         Kind
	Manifests                                    int
}

func viewOfImage(img *Image) imageView {
	return imageView{
		Digest: img.Digest, DockerImageReference: img.DockerImageReference, Tag: img.Tag,
		MediaType: img.MediaType, Kind: img.Kind, Manifests: len(img.Manifests),
	}
}

func tagOf(t *testing.T, rel *Release, name string) Tag {
	t.Helper()
	i := slices.IndexFunc(rel.Tags, func(tag Tag) bool { return tag.Name == name })
	if i < 0 {
		t.Fatalf("release %s has no tag %s", rel.Name, name)
	}
	return rel.Tags[i]
}

// childOf resolves pullSpec and returns its manifest for arch.
func childOf(t *testing.T, reg *Registry, pullSpec, arch string) imagev1.ImageManifest {
	t.Helper()
	img, err := reg.Resolve(t.Context(), pullSpec)
	if err != nil {
		t.Fatalf("could not resolve %s: %v", pullSpec, err)
	}
	i := slices.IndexFunc(img.Manifests, func(m imagev1.ImageManifest) bool { return m.Architecture == arch })
	if i < 0 {
		t.Fatalf("%s has no %s manifest", pullSpec, arch)
	}
	return img.Manifests[i]
}

func TestResolve(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(20))
	cli, installer := tagOf(t, rel, "cli"), tagOf(t, rel, "installer")
	art := DefaultHost + "/ocp/release-art-dev@"
	cliARM := childOf(t, reg, cli.PullSpec, "arm64")
	payloadS390X := childOf(t, reg, rel.PullSpec, "s390x")

	testCases := []struct {
		name     string
		pullSpec string
		want     imageView
	}{
		{
			name:     "payload by tag",
			pullSpec: rel.PullSpec,
			want:     imageView{Digest: rel.Digest, DockerImageReference: rel.DigestPullSpec, MediaType: MediaTypeManifestList, Kind: KindPayload, Manifests: 4},
		},
		{
			name:     "payload by digest",
			pullSpec: rel.DigestPullSpec,
			want:     imageView{Digest: rel.Digest, DockerImageReference: rel.DigestPullSpec, MediaType: MediaTypeManifestList, Kind: KindPayload, Manifests: 4},
		},
		{
			name:     "payload by tag and digest",
			pullSpec: rel.PullSpec + "@" + rel.Digest,
			want:     imageView{Digest: rel.Digest, DockerImageReference: rel.DigestPullSpec, MediaType: MediaTypeManifestList, Kind: KindPayload, Manifests: 4},
		},
		{
			name:     "cli by digest",
			pullSpec: rel.CLIPullSpec,
			want:     imageView{Digest: cli.Digest, DockerImageReference: cli.PullSpec, Tag: "cli", MediaType: MediaTypeManifestList, Kind: KindCLI, Manifests: 4},
		},
		{
			name:     "component by digest",
			pullSpec: installer.PullSpec,
			want:     imageView{Digest: installer.Digest, DockerImageReference: installer.PullSpec, Tag: "installer", MediaType: MediaTypeManifestList, Kind: KindComponent, Manifests: 4},
		},
		{
			name:     "cli child by digest",
			pullSpec: art + cliARM.Digest,
			want:     imageView{Digest: cliARM.Digest, DockerImageReference: art + cliARM.Digest, Tag: "cli", MediaType: MediaTypeManifest, Kind: KindCLI},
		},
		{
			name:     "payload child by digest",
			pullSpec: DefaultHost + "/ocp/release@" + payloadS390X.Digest,
			want:     imageView{Digest: payloadS390X.Digest, DockerImageReference: DefaultHost + "/ocp/release@" + payloadS390X.Digest, MediaType: MediaTypeManifest, Kind: KindPayload},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := reg.Resolve(t.Context(), tc.pullSpec)
			if err != nil {
				t.Fatalf("Resolve(%s): %v", tc.pullSpec, err)
			}
			if diff := cmp.Diff(tc.want, viewOfImage(img)); diff != "" {
				t.Errorf("Resolve(%s) mismatch (-want +got):\n%s", tc.pullSpec, diff)
			}
			if img.Release != rel {
				t.Errorf("Resolve(%s).Release = %v, want release %s", tc.pullSpec, img.Release, rel.Name)
			}
		})
	}
}

func TestResolveManifests(t *testing.T) {
	reg, other := New(), New()
	rel := reg.AddRelease(testRelease, WithImages(3))
	other.AddRelease(testRelease, WithImages(3))
	seen := map[string]bool{}
	for _, pullSpec := range []string{rel.PullSpec, rel.CLIPullSpec, rel.Tags[2].PullSpec} {
		img, err := reg.Resolve(t.Context(), pullSpec)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", pullSpec, err)
		}
		var platforms []string
		for _, m := range img.Manifests {
			platforms = append(platforms, m.OS+"/"+m.Architecture)
			if !digestRE.MatchString(m.Digest) || m.Digest == img.Digest || seen[m.Digest] {
				t.Errorf("%s: child digest %q is malformed, the list's own, or reused", pullSpec, m.Digest)
			}
			seen[m.Digest] = true
			if m.MediaType != MediaTypeManifest {
				t.Errorf("%s: child media type %q, want %q", pullSpec, m.MediaType, MediaTypeManifest)
			}
			if m.ManifestSize < 1000 || m.ManifestSize >= 3500 {
				t.Errorf("%s: child manifest size %d outside [1000, 3500)", pullSpec, m.ManifestSize)
			}
		}
		if diff := cmp.Diff([]string{"linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"}, platforms); diff != "" {
			t.Errorf("%s: platforms mismatch (-want +got):\n%s", pullSpec, diff)
		}
		again, err := other.Resolve(t.Context(), pullSpec)
		if err != nil {
			t.Fatalf("second registry: Resolve(%s): %v", pullSpec, err)
		}
		if diff := cmp.Diff(img.Manifests, again.Manifests); diff != "" {
			t.Errorf("%s: manifests differ between registries (-first +second):\n%s", pullSpec, diff)
		}
	}
}

func TestResolveReturnsCopy(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(1))
	img, err := reg.Resolve(t.Context(), rel.PullSpec)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	want := img.Manifests[0].Digest
	img.Manifests[0].Digest = "changed"
	img.Digest = "changed"
	again, err := reg.Resolve(t.Context(), rel.PullSpec)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if again.Digest != rel.Digest || again.Manifests[0].Digest != want {
		t.Errorf("changing a resolved image changed the registry: digest %s, first child %s", again.Digest, again.Manifests[0].Digest)
	}
}

func TestResolveUnknown(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(2))
	unknownDigest := digestOf("nothing")
	testCases := []struct {
		name     string
		pullSpec string
	}{
		{name: "unknown release tag", pullSpec: DefaultHost + "/ocp/release:4.19.0"},
		{name: "default tag latest", pullSpec: DefaultHost + "/ocp/release"},
		{name: "unknown digest in art repository", pullSpec: DefaultHost + "/ocp/release-art-dev@" + unknownDigest},
		{name: "component digest in the payload repository", pullSpec: DefaultHost + "/ocp/release@" + rel.Tags[0].Digest},
		{name: "payload tag on another host", pullSpec: "quay.io/ocp/release:" + testRelease},
		{name: "other repository", pullSpec: DefaultHost + "/ocp/other:" + testRelease},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := reg.Resolve(t.Context(), tc.pullSpec)
			var importErr *ImportError
			if !errors.As(err, &importErr) {
				t.Fatalf("Resolve(%s) = %v, %v; want an *ImportError", tc.pullSpec, img, err)
			}
			want := &ImportError{Reason: ReasonNotFound, Message: fmt.Sprintf("dockerimage.image.openshift.io %q not found", tc.pullSpec)}
			if diff := cmp.Diff(want, importErr); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveMalformed(t *testing.T) {
	reg := New()
	reg.AddRelease(testRelease, WithImages(1))
	for _, pullSpec := range []string{"", "ocp/release:x", DefaultHost + "/OCP/release:x", DefaultHost + "/ocp/release@sha256:12"} {
		_, err := reg.Resolve(t.Context(), pullSpec)
		if !errors.Is(err, ErrInvalidPullSpec) {
			t.Errorf("Resolve(%q) error = %v, want ErrInvalidPullSpec", pullSpec, err)
		}
		if reason := ReasonOf(err); reason != "" {
			t.Errorf("Resolve(%q) reason = %q, want none", pullSpec, reason)
		}
	}
}

func TestReleaseLookup(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(3))
	other := reg.AddRelease("4.17.0", WithImages(3))
	cliChild := childOf(t, reg, rel.CLIPullSpec, "amd64")
	before := reg.TotalResolves()

	testCases := []struct {
		name     string
		pullSpec string
		want     *Release
	}{
		{name: "payload tag", pullSpec: rel.PullSpec, want: rel},
		{name: "payload digest", pullSpec: rel.DigestPullSpec, want: rel},
		{name: "component", pullSpec: rel.Tags[1].PullSpec, want: rel},
		{name: "manifest list child", pullSpec: DefaultHost + "/ocp/release-art-dev@" + cliChild.Digest, want: rel},
		{name: "other release", pullSpec: other.CLIPullSpec, want: other},
		{name: "unknown", pullSpec: DefaultHost + "/ocp/release:4.19.0"},
		{name: "malformed", pullSpec: "not a pull spec"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := reg.ReleaseFor(tc.pullSpec)
			if ok != (tc.want != nil) || got != tc.want {
				t.Errorf("ReleaseFor(%q) = %v, %t; want %v", tc.pullSpec, got, ok, tc.want)
			}
		})
	}
	if got := reg.TotalResolves(); got != before {
		t.Errorf("ReleaseFor counted as Resolve: total %d, want %d", got, before)
	}
	if got, ok := reg.Release(testRelease); !ok || got != rel {
		t.Errorf("Release(%q) = %v, %t; want the added release", testRelease, got, ok)
	}
	if got, ok := reg.Release("4.19.0"); ok || got != nil {
		t.Errorf("Release(4.19.0) = %v, %t; want nothing", got, ok)
	}
}

func TestAddReleaseReplaces(t *testing.T) {
	reg := New()
	old := reg.AddRelease(testRelease, WithImages(10))
	dropped := tagOf(t, old, knownTags[9])
	kept := tagOf(t, old, CLITag)
	current := reg.AddRelease(testRelease, WithImages(5))

	if got, _ := reg.Release(testRelease); got != current {
		t.Errorf("Release(%q) is not the replacement", testRelease)
	}
	img, err := reg.Resolve(t.Context(), current.PullSpec)
	if err != nil || img.Digest != current.Digest {
		t.Fatalf("payload tag resolves to %v, %v; want digest %s", img, err, current.Digest)
	}
	for _, pullSpec := range []string{old.DigestPullSpec, dropped.PullSpec} {
		if _, err := reg.Resolve(t.Context(), pullSpec); ReasonOf(err) != ReasonNotFound {
			t.Errorf("Resolve(%s) after replacement: %v, want NotFound", pullSpec, err)
		}
	}
	if img, err := reg.Resolve(t.Context(), kept.PullSpec); err != nil || img.Release != current {
		t.Errorf("Resolve(%s) after replacement = %v, %v; want an image of the replacement", kept.PullSpec, img, err)
	}
}

// TestResolveConcurrent checks that every call is counted once and resolves
// correctly while releases are being added.
func TestResolveConcurrent(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(30))
	specs := []string{rel.PullSpec, rel.DigestPullSpec, rel.CLIPullSpec, rel.Tags[7].PullSpec}
	const workers, calls = 16, 48 // calls divisible by len(specs)

	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				spec := specs[(w+i)%len(specs)]
				img, err := reg.Resolve(t.Context(), spec)
				if err != nil {
					errs <- err
					continue
				}
				if img.Release != rel {
					errs <- fmt.Errorf("%s resolved to release %s", spec, img.Release.Name)
				}
			}
		})
	}
	for i := range 8 {
		wg.Go(func() { reg.AddRelease(fmt.Sprintf("4.%d.0", i), WithImages(5)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	want := 0
	for _, spec := range specs {
		want += reg.Resolves(spec)
	}
	if want != workers*calls || reg.TotalResolves() != workers*calls {
		t.Errorf("per-spec counts sum to %d and total is %d, want %d", want, reg.TotalResolves(), workers*calls)
	}
	if got := reg.Resolves(rel.PullSpec); got != workers*calls/len(specs) {
		t.Errorf("Resolves(%s) = %d, want %d", rel.PullSpec, got, workers*calls/len(specs))
	}
}
