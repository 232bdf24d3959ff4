package fakeopenshift

import (
	"fmt"
	"slices"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/managedfields"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// ImageStreamTag is a virtual resource: a view of one tag of a stream, read
// and written through the stream (openshift-apiserver
// pkg/image/apiserver/registry/imagestreamtag/rest.go):
//
//   - GET is 404 until the tag has an image in status (pending, failed first
//     import, or a reference tag without image); it carries the stream's
//     resourceVersion, UID and labels, the spec tag's annotations, and
//     generation = items[0].generation. image.dockerImageReference is the
//     resolved pull spec: the internal registry's stream by digest for a
//     Local referencePolicy, the source by digest otherwise.
//   - CREATE is 409 when the spec tag exists and creates the stream when it
//     is missing.
//   - UPDATE with a stale resourceVersion is 409; without one it always
//     lands. A missing stream is created unless a resourceVersion was given
//     (404). Without a tag the spec tag is kept (400 when there is none);
//     the tag's annotations become the ImageStreamTag's metadata
//     annotations. The stream's generation rules apply; its lookupPolicy is
//     never touched.
//   - DELETE removes the spec and the status tag. There is no watch.

type istagResult struct {
	writeResult
	istag *imagev1.ImageStreamTag
}

var imageStreamTagResource = imagev1.Resource("imagestreamtags")

func splitTagName(name string) (stream, tag string, err error) {
	i := strings.LastIndex(name, ":")
	if i <= 0 || i == len(name)-1 || strings.Count(name, ":") != 1 {
		return "", "", apierrors.NewBadRequest(fmt.Sprintf("%q is not a valid image stream tag name: must be <stream>:<tag>", name))
	}
	return name[:i], name[i+1:], nil
}

// getImageStreamTag serves GET imagestreamtags/<stream>:<tag>.
func (c *Cluster) getImageStreamTag(namespace, name string) (*imagev1.ImageStreamTag, error) {
	streamName, tag, err := splitTagName(name)
	if err != nil {
		return nil, err
	}
	live := c.store.get(objectKey{gvk: imageStreamGVK, namespace: namespace, name: streamName})
	if live == nil {
		// The server reports the stream, not the tag, as missing.
		return nil, apierrors.NewNotFound(imagev1.Resource("imagestreams"), streamName)
	}
	is := live.(*imagev1.ImageStream)
	ev := latestTagEvent(is, tag)
	if ev == nil || ev.Image == "" {
		return nil, apierrors.NewNotFound(imageStreamTagResource, name)
	}
	return imageStreamTagFor(is, tag), nil
}

func imageStreamTagFor(is *imagev1.ImageStream, tag string) *imagev1.ImageStreamTag {
	out := &imagev1.ImageStreamTag{
		ObjectMeta: metav1.ObjectMeta{
			Name: is.Name + ":" + tag, Namespace: is.Namespace, UID: is.UID,
			ResourceVersion: is.ResourceVersion, CreationTimestamp: is.CreationTimestamp,
			Labels: is.Labels,
		},
		LookupPolicy: is.Spec.LookupPolicy,
	}
	if t := specTag(is, tag); t != nil {
		out.Tag = t.DeepCopy()
		// The tag's annotations are the ImageStreamTag's.
		for k, v := range t.Annotations {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	for _, st := range is.Status.Tags {
		if st.Tag == tag {
			out.Conditions = append(out.Conditions, st.Conditions...)
		}
	}
	if ev := latestTagEvent(is, tag); ev != nil {
		out.Generation = ev.Generation
		out.CreationTimestamp = ev.Created
		out.Image = imagev1.Image{ObjectMeta: metav1.ObjectMeta{Name: ev.Image}, DockerImageReference: resolveReference(is, tag, ev)}
	}
	return out
}

// resolveReference is the pull spec a reader of the tag is given: the
// internal registry's stream by digest for a Local referencePolicy, the
// source otherwise (openshift-apiserver's ResolveReferenceForTagEvent).
// Status always keeps the source.
func resolveReference(is *imagev1.ImageStream, tag string, ev *imagev1.TagEvent) string {
	if t := specTag(is, tag); t != nil && t.ReferencePolicy.Type == imagev1.LocalTagReferencePolicy && ev.Image != "" && is.Status.DockerImageRepository != "" {
		return is.Status.DockerImageRepository + "@" + ev.Image
	}
	return ev.DockerImageReference
}

// createImageStreamTag serves POST imagestreamtags.
func (c *Cluster) createImageStreamTag(istag *imagev1.ImageStreamTag, manager string, onCommit ...commitFunc) (istagResult, error) {
	return c.writeImageStreamTag(istag, manager, true, onCommit...)
}

// updateImageStreamTag serves PUT imagestreamtags/<stream>:<tag>.
func (c *Cluster) updateImageStreamTag(istag *imagev1.ImageStreamTag, manager string, onCommit ...commitFunc) (istagResult, error) {
	return c.writeImageStreamTag(istag, manager, false, onCommit...)
}

func (c *Cluster) writeImageStreamTag(istag *imagev1.ImageStreamTag, manager string, create bool, onCommit ...commitFunc) (istagResult, error) {
	streamName, tagName, err := splitTagName(istag.Name)
	if err != nil {
		return istagResult{}, err
	}
	if istag.Tag == nil && create {
		return istagResult{}, invalid("ImageStreamTag", istag.Name, nil, nil, "tag is required")
	}
	fm, err := c.fieldManager(imageStreamGVK, "")
	if err != nil {
		return istagResult{}, err
	}
	k, _ := kindFor(imageStreamGVK)
	key := objectKey{gvk: imageStreamGVK, namespace: istag.Namespace, name: streamName}
	res, err := c.store.write(imageStreamGVK, k.resource, key, func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		var existing *imagev1.TagReference
		if live != nil {
			existing = specTag(live.(*imagev1.ImageStream), tagName)
		}
		tag, err := istagSpecTag(istag, existing, streamName, tagName, create)
		if err != nil {
			return nil, err
		}
		if live == nil {
			if !create && istag.ResourceVersion != "" {
				return nil, apierrors.NewNotFound(imageStreamTagResource, istag.Name)
			}
			return c.createStreamWithTag(fm, istag.Namespace, streamName, tag, manager)
		}
		is := live.DeepCopyObject().(*imagev1.ImageStream)
		if create && existing != nil {
			return nil, apierrors.NewAlreadyExists(imageStreamTagResource, istag.Name)
		}
		if !create {
			if err := checkPreconditions(imageStreamTagResource, istag.Name, live, istag.ResourceVersion, ""); err != nil {
				return nil, err
			}
		}
		var tags []imagev1.TagReference
		for _, t := range is.Spec.Tags {
			if t.Name != tagName {
				tags = append(tags, t)
			}
		}
		if tag != nil {
			tags = append(tags, *tag)
		}
		is.Spec.Tags = tags
		return c.updateWith(fm, live, is, "", manager)
	}, onCommit...)
	if err != nil {
		return istagResult{}, err
	}
	return istagResult{writeResult: res, istag: imageStreamTagFor(res.object.(*imagev1.ImageStream), tagName)}, nil
}

// istagSpecTag is the spec tag an ImageStreamTag write stores. A create
// takes the tag as sent. An update keeps the spec tag when none is sent, and
// its annotations are the ImageStreamTag's own (openshift-apiserver's
// imagestreamtag REST).
func istagSpecTag(istag *imagev1.ImageStreamTag, existing *imagev1.TagReference, streamName, tagName string, create bool) (*imagev1.TagReference, error) {
	var tag *imagev1.TagReference
	switch {
	case istag.Tag != nil:
		tag = istag.Tag.DeepCopy()
		tag.Name = tagName
	case !create && existing != nil:
		tag = existing.DeepCopy()
	case !create:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("imagestreamtag %s is not a spec tag in imagestream %s/%s, cannot be updated", tagName, istag.Namespace, streamName))
	}
	if !create {
		tag.Annotations = istag.Annotations
	}
	return tag, nil
}

// createStreamWithTag is the stream an ImageStreamTag write creates when
// the stream is missing.
func (c *Cluster) createStreamWithTag(fm *managedfields.FieldManager, namespace, streamName string, tag *imagev1.TagReference, manager string) (ctrlruntimeclient.Object, error) {
	is := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: streamName, Namespace: namespace}}
	if tag != nil {
		is.Spec.Tags = []imagev1.TagReference{*tag}
	}
	merged, err := fm.Update(&imagev1.ImageStream{}, is, manager)
	if err != nil {
		return nil, err
	}
	out := merged.(*imagev1.ImageStream)
	c.imageStreamPrepareForCreate(out)
	return out, nil
}

// deleteImageStreamTag serves DELETE imagestreamtags/<stream>:<tag>.
func (c *Cluster) deleteImageStreamTag(namespace, name, manager string, onCommit ...commitFunc) (writeResult, error) {
	streamName, tagName, err := splitTagName(name)
	if err != nil {
		return writeResult{}, err
	}
	fm, err := c.fieldManager(imageStreamGVK, "")
	if err != nil {
		return writeResult{}, err
	}
	k, _ := kindFor(imageStreamGVK)
	key := objectKey{gvk: imageStreamGVK, namespace: namespace, name: streamName}
	return c.store.write(imageStreamGVK, k.resource, key, func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil {
			return nil, apierrors.NewNotFound(imageStreamTagResource, name)
		}
		is := live.DeepCopyObject().(*imagev1.ImageStream)
		// The deep copy is the stream's own, so its slices may be filtered
		// in place.
		before := len(is.Spec.Tags) + len(is.Status.Tags)
		is.Spec.Tags = slices.DeleteFunc(is.Spec.Tags, func(t imagev1.TagReference) bool { return t.Name == tagName })
		status := slices.DeleteFunc(is.Status.Tags, func(st imagev1.NamedTagEventList) bool { return st.Tag == tagName })
		is.Status.Tags = status
		if len(is.Spec.Tags)+len(status) == before {
			return nil, apierrors.NewNotFound(imageStreamTagResource, name)
		}
		out, err := c.updateWith(fm, live, is, "", manager)
		if err != nil {
			return nil, err
		}
		out.(*imagev1.ImageStream).Status.Tags = status
		return out, nil
	}, onCommit...)
}
