package fakeopenshift

import (
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// The strategies below are the parts of each kind's registry strategy that a
// client can observe: what a create resets, how metadata.generation moves,
// which fields a write through the main resource or the status subresource
// may change, and what is immutable.

// prepareForCreate runs on every create, before the object is stored.
func (c *Cluster) prepareForCreate(obj ctrlruntimeclient.Object) error {
	obj.SetDeletionTimestamp(nil)
	obj.SetDeletionGracePeriodSeconds(nil)
	switch o := obj.(type) {
	case *imagev1.ImageStream:
		if err := validateImageStreamTags(o); err != nil {
			return err
		}
		c.imageStreamPrepareForCreate(o)
	case *corev1.Pod:
		o.Generation = 1
		o.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qosClass(o)}
		defaultPod(o)
	default:
		// ConfigMaps, Secrets, ServiceAccounts and RBAC objects have no
		// generation: their strategies leave metadata.generation at 0.
		obj.SetGeneration(0)
	}
	return nil
}

// prepareForUpdate runs on every write through the main resource (update,
// patch, apply) of an existing object.
func (c *Cluster) prepareForUpdate(obj, old ctrlruntimeclient.Object) error {
	keepSystemFields(obj, old)
	switch o := obj.(type) {
	case *imagev1.ImageStream:
		if err := validateImageStreamTags(o); err != nil {
			return err
		}
		c.imageStreamPrepareForUpdate(o, old.(*imagev1.ImageStream))
	case *corev1.Pod:
		oldPod := old.(*corev1.Pod)
		o.Status = oldPod.Status
		defaultPod(o)
		if !apiequality.Semantic.DeepEqual(podMutableSpec(o.Spec), podMutableSpec(oldPod.Spec)) {
			return apierrors.NewInvalid(podGVK.GroupKind(), o.Name, field.ErrorList{field.Forbidden(field.NewPath("spec"),
				"pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`")})
		}
		if !apiequality.Semantic.DeepEqual(o.Spec, oldPod.Spec) {
			o.Generation++
		}
	case *corev1.ConfigMap:
		oldCM := old.(*corev1.ConfigMap)
		if oldCM.Immutable != nil && *oldCM.Immutable {
			if !apiequality.Semantic.DeepEqual(o.Data, oldCM.Data) || !apiequality.Semantic.DeepEqual(o.BinaryData, oldCM.BinaryData) || o.Immutable == nil || !*o.Immutable {
				return apierrors.NewInvalid(configMapGVK.GroupKind(), o.Name, field.ErrorList{field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")})
			}
		}
	case *corev1.Secret:
		oldSecret := old.(*corev1.Secret)
		if oldSecret.Immutable != nil && *oldSecret.Immutable {
			if !apiequality.Semantic.DeepEqual(o.Data, oldSecret.Data) || o.Immutable == nil || !*o.Immutable {
				return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Secret").GroupKind(), o.Name, field.ErrorList{field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")})
			}
		}
	}
	return nil
}

// prepareForStatusUpdate runs on writes through the status subresource: only
// status changes; spec, labels and annotations stay as stored.
func (c *Cluster) prepareForStatusUpdate(obj, old ctrlruntimeclient.Object) error {
	keepSystemFields(obj, old)
	obj.SetLabels(old.GetLabels())
	obj.SetAnnotations(old.GetAnnotations())
	switch o := obj.(type) {
	case *imagev1.ImageStream:
		o.Spec = old.(*imagev1.ImageStream).Spec
	case *corev1.Pod:
		o.Spec = old.(*corev1.Pod).Spec
	case *corev1.Namespace:
		o.Spec = old.(*corev1.Namespace).Spec
	default:
		return apierrors.NewNotFound(corev1.Resource("status"), obj.GetName())
	}
	return nil
}

// keepSystemFields keeps what only the server sets: the generation and a
// graceful deletion's timestamp and grace period.
func keepSystemFields(obj, old ctrlruntimeclient.Object) {
	obj.SetGeneration(old.GetGeneration())
	obj.SetDeletionTimestamp(old.GetDeletionTimestamp())
	obj.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
}

// podMutableSpec blanks the fields of a pod spec that an update may change,
// so what is left must not change.
func podMutableSpec(spec corev1.PodSpec) corev1.PodSpec {
	spec = *spec.DeepCopy()
	spec.ActiveDeadlineSeconds = nil
	spec.Tolerations = nil
	spec.TerminationGracePeriodSeconds = nil
	for i := range spec.Containers {
		spec.Containers[i].Image = ""
	}
	for i := range spec.InitContainers {
		spec.InitContainers[i].Image = ""
	}
	return spec
}

// defaultPod sets the defaults a reader of a pod relies on.
func defaultPod(pod *corev1.Pod) {
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		pod.Spec.TerminationGracePeriodSeconds = &grace
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if c.TerminationMessagePath == "" {
			c.TerminationMessagePath = corev1.TerminationMessagePathDefault
		}
		if c.TerminationMessagePolicy == "" {
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
		if c.ImagePullPolicy == "" {
			c.ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
}

func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	for _, c := range pod.Spec.Containers {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			return corev1.PodQOSBurstable
		}
	}
	return corev1.PodQOSBestEffort
}

func invalid(kind, name string, path *field.Path, value any, detail string) error {
	return apierrors.NewInvalid(imagev1.GroupVersion.WithKind(kind).GroupKind(), name, field.ErrorList{field.Invalid(path, value, detail)})
}

var _ = fmt.Sprintf

// validateImageStreamTags is the part of openshift-apiserver's ImageStream
// validation that a tag's source must pass: a known kind, and a name. (The
// server parses DockerImage names with the distribution grammar, which
// accepts short names such as "ubuntu"; the fake only insists on a name.)
func validateImageStreamTags(is *imagev1.ImageStream) error {
	var errs field.ErrorList
	for i, tag := range is.Spec.Tags {
		if tag.From == nil {
			continue
		}
		from := field.NewPath("spec", "tags").Index(i).Child("from")
		switch tag.From.Kind {
		case "DockerImage", "ImageStreamTag", "ImageStreamImage":
		default:
			errs = append(errs, field.NotSupported(from.Child("kind"), tag.From.Kind, []string{"DockerImage", "ImageStreamImage", "ImageStreamTag"}))
			continue
		}
		if tag.From.Name == "" {
			errs = append(errs, field.Required(from.Child("name"), ""))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(imageStreamGVK.GroupKind(), is.Name, errs)
	}
	return nil
}
