package fakeopenshift

import (
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
)

// resolveLocalImages is OpenShift's image policy admission for a new pod: a
// container image that names no registry, "stream:tag", is resolved through
// the ImageStream of that name in the pod's namespace when the stream has
// lookupPolicy.local and the tag has an image: the image becomes the tag's
// resolved pull spec by digest. Anything else is left for the kubelet.
func (cl *Cluster) resolveLocalImages(pod *corev1.Pod) {
	for i := range pod.Spec.Containers {
		if ref, ok := cl.resolveLocalImage(pod.Namespace, pod.Spec.Containers[i].Image); ok {
			pod.Spec.Containers[i].Image = ref
		}
	}
	for i := range pod.Spec.InitContainers {
		if ref, ok := cl.resolveLocalImage(pod.Namespace, pod.Spec.InitContainers[i].Image); ok {
			pod.Spec.InitContainers[i].Image = ref
		}
	}
}

func (cl *Cluster) resolveLocalImage(namespace, image string) (string, bool) {
	if strings.ContainsAny(image, "/@") {
		return "", false // names a registry or a repository path
	}
	name, tag, ok := strings.Cut(image, ":")
	if !ok {
		tag = "latest"
	}
	is, _ := cl.store.get(objectKey{gvk: imageStreamGVK, namespace: namespace, name: name}).(*imagev1.ImageStream)
	if is == nil || !is.Spec.LookupPolicy.Local {
		return "", false
	}
	ev := latestTagEvent(is, tag)
	if ev == nil || ev.Image == "" {
		return "", false
	}
	return resolveReference(is, tag, ev), true
}
