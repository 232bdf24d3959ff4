package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"

	imagev1 "github.com/openshift/api/image/v1"
)

const (
	// MediaTypeManifestList is the media type of every image Resolve returns
	// by tag or by list digest.
	MediaTypeManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeManifest is the media type of a manifest list's children.
	MediaTypeManifest = "application/vnd.docker.distribution.manifest.v2+json"
)

// Kind says what a fake kubelet should run for an image.
type Kind string

const (
	// KindPayload is the release payload, i.e. the cluster-version-operator
	// image that carries /release-manifests/image-references.
	KindPayload Kind = "Payload"
	// KindCLI is the image of the payload's cli tag, which carries oc.
	KindCLI Kind = "CLI"
	// KindComponent is any other component image of a payload.
	KindComponent Kind = "Component"
)

// platforms are the children of every manifest list, in the order a
// multi-arch OpenShift payload lists them.
var platforms = []struct{ os, arch string }{
	{"linux", "amd64"},
	{"linux", "arm64"},
	{"linux", "ppc64le"},
	{"linux", "s390x"},
}

// Image is what Resolve finds for a pull spec.
type Image struct {
	// Digest is the manifest digest the pull spec resolved to.
	Digest string
	// DockerImageReference is the image by digest: repo@Digest.
	DockerImageReference string
	// Kind says which program the image runs.
	Kind Kind
	// Tag is the image's tag in the owning release's image-references, ""
	// for the payload itself.
	Tag string
	// Release is the release the image belongs to.
	Release *Release
	// MediaType is MediaTypeManifestList, or MediaTypeManifest for a child
	// resolved by its own digest.
	MediaType string
	// Manifests are the children of a manifest list, one per platform; empty
	// for a child.
	Manifests []imagev1.ImageManifest
}

// clone returns a copy the caller may change without touching the registry.
func (img *Image) clone() *Image {
	out := *img
	out.Manifests = slices.Clone(img.Manifests)
	return &out
}

// newImages returns the manifest list repo@listDigest and its children, each
// child addressable in the same repository by its own digest.
func newImages(repo, listDigest string, kind Kind, tag string, rel *Release) (*Image, []*Image) {
	list := &Image{
		Digest:               listDigest,
		DockerImageReference: repo + "@" + listDigest,
		Kind:                 kind,
		Tag:                  tag,
		Release:              rel,
		MediaType:            MediaTypeManifestList,
	}
	children := make([]*Image, 0, len(platforms))
	for _, p := range platforms {
		sum := sha256.Sum256([]byte(listDigest + "/" + p.os + "/" + p.arch))
		digest := digestOf(listDigest + "/" + p.os + "/" + p.arch)
		list.Manifests = append(list.Manifests, imagev1.ImageManifest{
			Digest:    digest,
			MediaType: MediaTypeManifest,
			// A schema 2 manifest of an OpenShift image (config plus 4-8
			// layers) is 1-3.5 KB; derive the size from the digest so it is
			// stable.
			ManifestSize: 1000 + int64(binary.BigEndian.Uint16(sum[:2])%2500),
			Architecture: p.arch,
			OS:           p.os,
		})
		children = append(children, &Image{
			Digest:               digest,
			DockerImageReference: repo + "@" + digest,
			Kind:                 kind,
			Tag:                  tag,
			Release:              rel,
			MediaType:            MediaTypeManifest,
		})
	}
	return list, children
}
