package imagestreams

import (
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

// Phase is where a tag's import stands for the tag's current generation.
type Phase string

const (
	// Missing: the stream has no spec tag of that name (yet: a listing may be
	// older than the write that adds it).
	Missing Phase = "Missing"
	// Pending: the import for the current generation has not answered.
	Pending Phase = "Pending"
	// Imported: the newest status entry is for the current generation.
	Imported Phase = "Imported"
	// Failed: the import for the current generation failed; the import
	// controller will not try again.
	Failed Phase = "Failed"
)

// TagState is the import state of one tag.
type TagState struct {
	Tag   string
	Phase Phase
	// Generation is the spec tag's generation.
	Generation int64
	// Source is the spec tag's from.name.
	Source string
	// Image is the imported image's digest and DockerImageReference its pull
	// spec, when Imported.
	Image, DockerImageReference string
	// Reason and Message explain a failure; FailedGeneration is the failure
	// condition's generation, which identifies one failed attempt.
	Reason, Message  string
	FailedGeneration int64
}

func (s TagState) String() string {
	switch s.Phase {
	case Failed:
		return fmt.Sprintf("%s: import of %s failed: %s: %s", s.Tag, s.Source, s.Reason, s.Message)
	case Imported:
		return fmt.Sprintf("%s: imported %s", s.Tag, s.DockerImageReference)
	default:
		return fmt.Sprintf("%s: %s", s.Tag, s.Phase)
	}
}

// StateOf returns the import state of tag in is.
func StateOf(is *imagev1.ImageStream, tag string) TagState {
	return StatesOf(is, []string{tag})[0]
}

// StatesOf returns the import state of each of tags in is. It indexes the
// stream's tags once, so judging every tag of a large payload on every
// event costs time in proportion to the stream, not to its square.
func StatesOf(is *imagev1.ImageStream, tags []string) []TagState {
	specs := make(map[string]*imagev1.TagReference, len(is.Spec.Tags))
	for i := range is.Spec.Tags {
		// The last of duplicate names wins, as a server's list-map merge
		// would leave one.
		specs[is.Spec.Tags[i].Name] = &is.Spec.Tags[i]
	}
	statuses := make(map[string][]*imagev1.NamedTagEventList, len(is.Status.Tags))
	for i := range is.Status.Tags {
		statuses[is.Status.Tags[i].Tag] = append(statuses[is.Status.Tags[i].Tag], &is.Status.Tags[i])
	}
	out := make([]TagState, len(tags))
	for i, tag := range tags {
		out[i] = stateOf(tag, specs[tag], statuses[tag])
	}
	return out
}

// stateOf judges one tag from its spec and its status entries.
func stateOf(tag string, spec *imagev1.TagReference, statuses []*imagev1.NamedTagEventList) TagState {
	st := TagState{Tag: tag, Phase: Missing}
	if spec == nil {
		return st
	}
	st.Phase = Pending
	if spec.From != nil {
		st.Source = spec.From.Name
	}
	if spec.Generation == nil {
		// Only a client's own object lacks a generation; the server always
		// sets one.
		return st
	}
	st.Generation = *spec.Generation
	for _, status := range statuses {
		for _, c := range status.Conditions {
			if c.Type == imagev1.ImportSuccess && c.Status == corev1.ConditionFalse && c.Generation >= st.Generation {
				st.Phase, st.Reason, st.Message, st.FailedGeneration = Failed, c.Reason, c.Message, c.Generation
				return st
			}
		}
		if len(status.Items) > 0 && status.Items[0].Generation >= st.Generation && status.Items[0].Image != "" {
			st.Phase = Imported
			st.Image = status.Items[0].Image
			st.DockerImageReference = status.Items[0].DockerImageReference
		}
	}
	return st
}

// PullSpecFor returns the pull spec pods should use for an imported tag: the
// source repository by digest for the Source reference policy, the cluster
// registry's copy for Local. It returns "" when the tag is not imported.
func PullSpecFor(is *imagev1.ImageStream, tag string, policy imagev1.TagReferencePolicyType) string {
	st := StateOf(is, tag)
	if st.Phase != Imported {
		return ""
	}
	if referencePolicy(policy) == imagev1.LocalTagReferencePolicy && is.Status.DockerImageRepository != "" {
		return is.Status.DockerImageRepository + "@" + st.Image
	}
	return st.DockerImageReference
}

// RepositoryPullSpecFor returns <stream repository>@<digest> for an imported
// tag — the public repository when the cluster has one — as ci-operator
// provides RELEASE_IMAGE_<NAME>; "" when the tag is not imported.
func RepositoryPullSpecFor(is *imagev1.ImageStream, tag string) string {
	st := StateOf(is, tag)
	if st.Phase != Imported {
		return ""
	}
	repo := is.Status.PublicDockerImageRepository
	if repo == "" {
		repo = is.Status.DockerImageRepository
	}
	if repo == "" {
		return st.DockerImageReference
	}
	return repo + "@" + st.Image
}
