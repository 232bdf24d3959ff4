package fakeopenshift

import (
	"sort"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The ImageStream strategy, as openshift-apiserver implements it
// (pkg/image/apiserver/registry/imagestream/strategy.go):
//
//   - Create wipes status, sets metadata.generation to 1 and every spec tag's
//     generation to 1, whatever the client sent.
//   - Update replaces a client-sent tag generation by the stored one unless it
//     is 0 (a nil or arbitrary value changes nothing). The stream generation
//     goes up by one only when the spec differs. A tag gets the new stream
//     generation only when it is new, when the client sent generation 0, or
//     when tagRefChanged: from.name, from.namespace, reference or
//     importPolicy.importMode differ (from.kind is not compared).
//   - spec.tags is a map on the server: an update with duplicate names
//     collapses them (the last wins) and reads return tags sorted by name.
//   - Reads show defaults: importPolicy.importMode Legacy, referencePolicy
//     Source.
//   - Tags that need no registry get their status at once: reference
//     DockerImage tags, and ImageStreamTag tags whose source is imported.
//     Everything else is left to the import controller.

func (c *Cluster) imageStreamPrepareForCreate(is *imagev1.ImageStream) {
	is.Status = imagev1.ImageStreamStatus{}
	StampImageStreamCreate(is)
	c.imageStreamDecorate(is)
}

func (c *Cluster) imageStreamPrepareForUpdate(is, old *imagev1.ImageStream) {
	is.Status = *old.Status.DeepCopy()
	StampImageStreamUpdate(is, old)
	// A removed spec tag keeps its status history, as on the server; only
	// an ImageStreamTag delete removes both.
	c.imageStreamDecorate(is)
}

// StampImageStreamCreate applies the create half of the strategy to the spec
// and the generations of a new stream: metadata.generation 1, every tag's
// generation 1, tags collapsed by name, sorted and defaulted. The fake's
// store and a mutating admission webhook in front of a real apiserver (see
// test/integration) both call it, so they stamp alike.
func StampImageStreamCreate(is *imagev1.ImageStream) {
	is.Generation = 1
	normalizeTags(is)
	for i := range is.Spec.Tags {
		is.Spec.Tags[i].Generation = ptrInt64(1)
	}
}

// StampImageStreamUpdate applies the update half of the strategy to is, a
// write of old through the main resource: tags collapsed, sorted and
// defaulted; metadata.generation old+1 when the spec differs, else old's;
// every new or re-pointed tag (and one sent with generation 0) at the new
// generation, every other tag at its stored generation. Status is left as
// it is.
func StampImageStreamUpdate(is, old *imagev1.ImageStream) {
	normalizeTags(is)
	oldTags := map[string]imagev1.TagReference{}
	for _, t := range old.Spec.Tags {
		oldTags[t.Name] = t
	}
	bump := map[string]bool{}
	for i := range is.Spec.Tags {
		tag := &is.Spec.Tags[i]
		oldTag, existed := oldTags[tag.Name]
		switch {
		case tag.Generation != nil && *tag.Generation == 0:
			bump[tag.Name] = true
		case !existed:
			bump[tag.Name] = true
			tag.Generation = nil
		default:
			tag.Generation = oldTag.Generation
			if tagRefChanged(oldTag, *tag, is.Namespace) {
				bump[tag.Name] = true
			}
		}
	}
	is.Generation = old.Generation
	if !apiequality.Semantic.DeepEqual(is.Spec, old.Spec) {
		is.Generation = old.Generation + 1
	}
	for i := range is.Spec.Tags {
		if bump[is.Spec.Tags[i].Name] {
			is.Spec.Tags[i].Generation = ptrInt64(is.Generation)
		}
	}
}

// tagRefChanged is the server's test for "this tag points somewhere else now
// and must be imported again". A tag without a source never counts as
// changed, and an empty from.namespace means the stream's own namespace.
func tagRefChanged(old, next imagev1.TagReference, namespace string) bool {
	if next.Generation != nil && *next.Generation == 0 {
		return true
	}
	if next.From == nil || (next.From.Kind == "" && next.From.Name == "") {
		return false
	}
	oldFrom := corev1.ObjectReference{}
	if old.From != nil {
		oldFrom = *old.From
	}
	defaultNamespace := func(ns string) string {
		if ns == "" {
			return namespace
		}
		return ns
	}
	if oldFrom.Name != next.From.Name || defaultNamespace(oldFrom.Namespace) != defaultNamespace(next.From.Namespace) {
		return true
	}
	if old.Reference != next.Reference {
		return true
	}
	return old.ImportPolicy.ImportMode != next.ImportPolicy.ImportMode
}

// normalizeTags collapses duplicate tag names (the last wins), sorts the tags
// by name and fills the defaults, as the server's map representation does.
func normalizeTags(is *imagev1.ImageStream) {
	byName := map[string]imagev1.TagReference{}
	for _, t := range is.Spec.Tags {
		byName[t.Name] = t
	}
	tags := make([]imagev1.TagReference, 0, len(byName))
	for _, t := range byName {
		if t.ReferencePolicy.Type == "" {
			t.ReferencePolicy.Type = imagev1.SourceTagReferencePolicy
		}
		if t.ImportPolicy.ImportMode == "" {
			t.ImportPolicy.ImportMode = imagev1.ImportModeLegacy
		}
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	if len(tags) == 0 {
		tags = nil
	}
	is.Spec.Tags = tags
	sort.Slice(is.Status.Tags, func(i, j int) bool { return is.Status.Tags[i].Tag < is.Status.Tags[j].Tag })
}

// imageStreamDecorate fills the status fields the server computes: the
// repository names, and the status of tags that need no import.
func (c *Cluster) imageStreamDecorate(is *imagev1.ImageStream) {
	is.Status.DockerImageRepository = c.opts.InternalRegistry + "/" + is.Namespace + "/" + is.Name
	if c.opts.PublicRegistry != "" {
		is.Status.PublicDockerImageRepository = c.opts.PublicRegistry + "/" + is.Namespace + "/" + is.Name
	}
	for _, tag := range is.Spec.Tags {
		if tag.From == nil || tag.Generation == nil {
			continue
		}
		switch {
		case tag.From.Kind == "DockerImage" && tag.Reference:
			setTagEvent(is, tag.Name, imagev1.TagEvent{DockerImageReference: tag.From.Name, Generation: *tag.Generation}, c.now())
		case tag.From.Kind == "ImageStreamTag" && (tag.From.Namespace == "" || tag.From.Namespace == is.Namespace):
			if src := latestTagEvent(is, sourceTag(is.Name, tag.From.Name)); src != nil {
				ev := *src
				ev.Generation = *tag.Generation
				setTagEvent(is, tag.Name, ev, c.now())
			}
		}
	}
}

// sourceTag returns the tag part of an ImageStreamTag reference "is:tag" that
// points into the stream itself, or "".
func sourceTag(stream, ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			if ref[:i] == stream {
				return ref[i+1:]
			}
			return ""
		}
	}
	return ref
}

// setTagEvent records ev as the newest entry of tag's history: a new image is
// prepended; the same image only updates the newest entry's generation.
// Conditions are cleared, as a successful import clears them.
func setTagEvent(is *imagev1.ImageStream, tag string, ev imagev1.TagEvent, now metav1.Time) bool {
	for i := range is.Status.Tags {
		st := &is.Status.Tags[i]
		if st.Tag != tag {
			continue
		}
		if len(st.Items) > 0 && st.Items[0].Image == ev.Image && st.Items[0].DockerImageReference == ev.DockerImageReference {
			if st.Items[0].Generation == ev.Generation && len(st.Conditions) == 0 {
				return false
			}
			st.Items[0].Generation = ev.Generation
			st.Conditions = nil
			return true
		}
		ev.Created = now
		st.Items = append([]imagev1.TagEvent{ev}, st.Items...)
		st.Conditions = nil
		return true
	}
	ev.Created = now
	is.Status.Tags = append(is.Status.Tags, imagev1.NamedTagEventList{Tag: tag, Items: []imagev1.TagEvent{ev}})
	sort.Slice(is.Status.Tags, func(i, j int) bool { return is.Status.Tags[i].Tag < is.Status.Tags[j].Tag })
	return true
}

// setFailureCondition records a failed import of tag: the conditions become
// exactly one ImportSuccess=False. It reports false for a failure identical
// to the one recorded, which the server does not write again.
func setFailureCondition(is *imagev1.ImageStream, tag, reason, message string, generation int64, now metav1.Time) bool {
	if message == "" {
		message = "unknown error prevented import"
	}
	cond := imagev1.TagEventCondition{
		Type: imagev1.ImportSuccess, Status: corev1.ConditionFalse, Reason: reason, Message: message,
		Generation: generation, LastTransitionTime: now,
	}
	for i := range is.Status.Tags {
		st := &is.Status.Tags[i]
		if st.Tag != tag {
			continue
		}
		if len(st.Conditions) == 1 {
			old := st.Conditions[0]
			if old.Type == cond.Type && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message {
				return false
			}
		}
		st.Conditions = []imagev1.TagEventCondition{cond}
		return true
	}
	is.Status.Tags = append(is.Status.Tags, imagev1.NamedTagEventList{Tag: tag, Conditions: []imagev1.TagEventCondition{cond}})
	sort.Slice(is.Status.Tags, func(i, j int) bool { return is.Status.Tags[i].Tag < is.Status.Tags[j].Tag })
	return true
}

func latestTagEvent(is *imagev1.ImageStream, tag string) *imagev1.TagEvent {
	for _, st := range is.Status.Tags {
		if st.Tag == tag && len(st.Items) > 0 {
			return &st.Items[0]
		}
	}
	return nil
}

func specTag(is *imagev1.ImageStream, name string) *imagev1.TagReference {
	for i := range is.Spec.Tags {
		if is.Spec.Tags[i].Name == name {
			return &is.Spec.Tags[i]
		}
	}
	return nil
}

// latestObservedTagGeneration is the import controller's idea of the newest
// generation of tag that an import has answered, successfully or not.
func latestObservedTagGeneration(is *imagev1.ImageStream, tag string) int64 {
	var observed int64 = -1
	for _, st := range is.Status.Tags {
		if st.Tag != tag {
			continue
		}
		if len(st.Items) > 0 {
			observed = st.Items[0].Generation
		}
		for _, c := range st.Conditions {
			if c.Type == imagev1.ImportSuccess && c.Generation > observed {
				observed = c.Generation
			}
		}
	}
	return observed
}

// needsImport is the import controller's test for one spec tag.
func needsImport(is *imagev1.ImageStream, tag imagev1.TagReference) bool {
	if tag.From == nil || tag.From.Kind != "DockerImage" || tag.Reference || tag.Generation == nil {
		return false
	}
	return *tag.Generation > latestObservedTagGeneration(is, tag.Name)
}

func ptrInt64(v int64) *int64 { return &v }
