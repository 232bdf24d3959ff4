package fakeopenshift

import (
	"fmt"
	"regexp"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// validateObject is the object-metadata validation every apiserver strategy
// runs on create and update (apimachinery's ValidateObjectMetaAccessor):
// the name by the kind's rule, the namespace as a DNS-1123 label, label
// keys and values, annotation size, finalizers and managedFields. For
// ImageStreams it adds openshift-apiserver's name and tag-name rules.
func validateObject(k kindInfo, obj ctrlruntimeclient.Object) error {
	errs := apivalidation.ValidateObjectMetaAccessor(obj, k.gvk.Kind != "Namespace", nameRule(k), field.NewPath("metadata"))
	if is, ok := obj.(*imagev1.ImageStream); ok {
		for i, tag := range is.Spec.Tags {
			if !tagNameRegexp.MatchString(tag.Name) {
				errs = append(errs, field.Invalid(field.NewPath("spec", "tags").Index(i).Child("name"), tag.Name, fmt.Sprintf("must match %q", tagNameRegexp.String())))
			}
		}
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		errs = append(errs, configMapSize(cm)...)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(k.gvk.GroupKind(), obj.GetName(), errs)
	}
	return nil
}

// configMapSize is the size rule of k8s.io/kubernetes
// pkg/apis/core/validation ValidateConfigMap (v1.34): the values of data and
// binaryData together hold at most MaxSecretSize (1 MiB) bytes.
func configMapSize(cm *corev1.ConfigMap) field.ErrorList {
	total := 0
	for _, v := range cm.Data {
		total += len(v)
	}
	for _, v := range cm.BinaryData {
		total += len(v)
	}
	if total > corev1.MaxSecretSize {
		return field.ErrorList{field.TooLong(field.NewPath(""), "", corev1.MaxSecretSize)}
	}
	return nil
}

// nameRule is the name validation of a kind's strategy: DNS-1123 subdomain
// for pods, configmaps, secrets and service accounts, DNS-1123 label for
// namespaces, a path segment for RBAC objects, and for image streams
// openshift-apiserver's ValidateImageStreamName (a path segment that is also
// a repository name component: lowercase alphanumerics separated by one
// '.', '_' or '-').
func nameRule(k kindInfo) apivalidation.ValidateNameFunc {
	switch k.gvk.Kind {
	case "Namespace":
		return apivalidation.NameIsDNSLabel
	case "Role", "RoleBinding":
		return pathSegmentName
	case "ImageStream":
		return imageStreamName
	}
	return apivalidation.NameIsDNSSubdomain
}

var (
	repositoryNameComponentRegexp = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	tagNameRegexp                 = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

func pathSegmentName(name string, prefix bool) []string {
	if !prefix && (name == "." || name == "..") {
		return []string{fmt.Sprintf("may not be '%s'", name)}
	}
	for _, illegal := range []string{"/", "%"} {
		if strings.Contains(name, illegal) {
			return []string{fmt.Sprintf("may not contain '%s'", illegal)}
		}
	}
	return nil
}

func imageStreamName(name string, prefix bool) []string {
	if reasons := pathSegmentName(name, prefix); len(reasons) > 0 {
		return reasons
	}
	if !prefix && !repositoryNameComponentRegexp.MatchString(name) {
		return []string{fmt.Sprintf("must match %q", repositoryNameComponentRegexp.String())}
	}
	return nil
}
