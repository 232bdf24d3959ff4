package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

const (
	// DefaultImages is the number of component images in a generated payload
	// unless WithImages says otherwise; a 4.x payload has 150-200.
	DefaultImages = 190

	// CLITag is the payload tag of the image that carries oc; it is always
	// generated.
	CLITag = "cli"

	releaseRepoPath = "ocp/release"
	artRepoPath     = "ocp/release-art-dev"
)

// knownTags are real 4.x payload tags, most important first: a payload of n
// images takes the first n and names the rest component-NNN.
var knownTags = []string{
	CLITag, "cli-artifacts", "installer", "machine-config-operator",
	"cluster-version-operator", "must-gather", "tools", "tests", "hyperkube",
	"pod", "etcd", "haproxy-router", "oauth-server", "oauth-proxy", "console",
	"console-operator", "cluster-authentication-operator",
	"cluster-etcd-operator", "cluster-kube-apiserver-operator",
	"cluster-kube-controller-manager-operator",
	"cluster-kube-scheduler-operator", "cluster-network-operator",
	"cluster-dns-operator", "cluster-ingress-operator",
	"cluster-image-registry-operator", "cluster-monitoring-operator",
	"cluster-storage-operator", "cluster-config-operator",
	"cluster-node-tuning-operator", "cluster-samples-operator", "coredns",
	"docker-registry", "installer-artifacts", "baremetal-installer",
	"operator-lifecycle-manager", "operator-registry", "ovn-kubernetes",
	"multus-cni", "prometheus", "prometheus-operator",
	"prometheus-alertmanager", "thanos", "kube-rbac-proxy", "rhel-coreos",
	"rhel-coreos-extensions", "driver-toolkit", "insights-operator",
	"service-ca-operator", "openshift-apiserver", "openshift-controller-manager",
	"aws-ebs-csi-driver", "csi-external-provisioner",
}

// Release is a generated release payload. The registry shares it with every
// caller: treat it as read-only.
type Release struct {
	// Name is the payload's tag and the image stream name in its
	// image-references, e.g. 4.18.0-0.nightly-2026-11-20-000000.
	Name string
	// PullSpec is the payload by tag: <host>/ocp/release:<Name>.
	PullSpec string
	// DigestPullSpec is the payload by digest: <host>/ocp/release@<Digest>.
	DigestPullSpec string
	// Digest is the payload's manifest list digest, sha256:<64 hex>.
	Digest string
	// CLIPullSpec is the from.name of the cli tag, as
	// `cluster-version-operator image cli` prints it.
	CLIPullSpec string
	// Tags are the component images, sorted by name as in image-references.
	Tags []Tag

	imageReferences []byte
	imageStream     *imagev1.ImageStream
}

// Tag is one component image of a release.
type Tag struct {
	// Name is the tag in image-references, e.g. cli.
	Name string
	// PullSpec is the image by digest in the art repository: the tag's
	// from.name.
	PullSpec string
	// Digest is the image's manifest list digest.
	Digest string
}

// ImageReferences returns exactly what `oc adm release extract
// --file=image-references` prints for the payload: the ImageStream JSON
// indented by two spaces, without a trailing newline. The slice is the
// caller's.
func (rel *Release) ImageReferences() []byte {
	return slices.Clone(rel.imageReferences)
}

// ImageStream returns image-references decoded, a fresh copy each call.
func (rel *Release) ImageStream() *imagev1.ImageStream {
	return rel.imageStream.DeepCopy()
}

// ReleaseOption configures AddRelease.
type ReleaseOption func(*releaseOptions)

type releaseOptions struct {
	images int
}

// WithImages sets the number of component images, cli included; it must be
// at least 1.
func WithImages(n int) ReleaseOption {
	return func(o *releaseOptions) { o.images = n }
}

// newRelease generates the payload name for host. Nothing in it depends on
// anything but its arguments, so two registries generate identical payloads.
func newRelease(host, name string, opts ...ReleaseOption) (*Release, error) {
	o := releaseOptions{images: DefaultImages}
	for _, opt := range opts {
		opt(&o)
	}
	if !pullspec.ValidTag(name) {
		return nil, fmt.Errorf("release name %q is not a valid image tag", name)
	}
	if o.images < 1 {
		return nil, fmt.Errorf("release %s needs at least one image (cli), not %d", name, o.images)
	}

	releaseRepo := host + "/" + releaseRepoPath
	artRepo := host + "/" + artRepoPath
	tags := make([]Tag, 0, o.images)
	for _, tagName := range tagNames(o.images) {
		digest := digestOf(name + "/" + tagName)
		tags = append(tags, Tag{Name: tagName, PullSpec: artRepo + "@" + digest, Digest: digest})
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })

	rel := &Release{Name: name, PullSpec: releaseRepo + ":" + name, Tags: tags}
	for _, tag := range tags {
		if tag.Name == CLITag {
			rel.CLIPullSpec = tag.PullSpec
		}
	}
	data, err := json.MarshalIndent(imageReferences(name, tags), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("could not encode image-references of release %s: %w", name, err)
	}
	// Decode what was written rather than keep the object that was encoded,
	// so ImageStream returns what a consumer of the file would read.
	rel.imageStream = &imagev1.ImageStream{}
	if err := json.Unmarshal(data, rel.imageStream); err != nil {
		return nil, fmt.Errorf("could not decode image-references of release %s: %w", name, err)
	}
	rel.imageReferences = data
	// The payload carries image-references, so its digest follows from it.
	rel.Digest = digestOf(string(data))
	rel.DigestPullSpec = releaseRepo + "@" + rel.Digest
	return rel, nil
}

// tagNames returns n distinct tag names, cli first.
func tagNames(n int) []string {
	names := slices.Clone(knownTags[:min(n, len(knownTags))])
	for i := 0; len(names) < n; i++ {
		names = append(names, fmt.Sprintf("component-%03d", i))
	}
	return names
}

// imageReferencesFile is the image-references file as `oc adm release new`
// writes it. It is spelled out rather than marshalled from imagev1 types
// because current apimachinery omits the zero creationTimestamp that the
// file carries as null, and the byte layout must not follow library bumps.
type imageReferencesFile struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Name              string    `json:"name"`
		CreationTimestamp *struct{} `json:"creationTimestamp"`
	} `json:"metadata"`
	Spec struct {
		LookupPolicy struct {
			Local bool `json:"local"`
		} `json:"lookupPolicy"`
		Tags []imageReferencesTag `json:"tags"`
	} `json:"spec"`
	Status struct {
		DockerImageRepository string `json:"dockerImageRepository"`
	} `json:"status"`
}

type imageReferencesTag struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations"`
	From        struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"from"`
	// Generation, ImportPolicy and ReferencePolicy are never set: the file
	// shows them as null, {} and {"type": ""}.
	Generation      *int64   `json:"generation"`
	ImportPolicy    struct{} `json:"importPolicy"`
	ReferencePolicy struct {
		Type string `json:"type"`
	} `json:"referencePolicy"`
}

func imageReferences(name string, tags []Tag) *imageReferencesFile {
	file := &imageReferencesFile{Kind: "ImageStream", APIVersion: imagev1.GroupVersion.String()}
	file.Metadata.Name = name
	for _, tag := range tags {
		t := imageReferencesTag{
			Name: tag.Name,
			Annotations: map[string]string{
				"io.openshift.build.commit.id":       digestHex(name + "/" + tag.Name + "/commit")[:40],
				"io.openshift.build.commit.ref":      "",
				"io.openshift.build.source-location": "https://github.com/openshift/" + tag.Name,
			},
		}
		t.From.Kind = "DockerImage"
		t.From.Name = tag.PullSpec
		file.Spec.Tags = append(file.Spec.Tags, t)
	}
	return file
}

// digestOf returns the sha256 digest of s in the form registries print.
func digestOf(s string) string {
	return "sha256:" + digestHex(s)
}

func digestHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
