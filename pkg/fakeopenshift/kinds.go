package fakeopenshift

import (
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1applyconfigurations "github.com/openshift/client-go/image/applyconfigurations"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	clientgoapplyconfigurations "k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// NewScheme returns a scheme with the kinds the fake serves: core/v1, rbac/v1
// and image.openshift.io/v1. Clients of the fake use it.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(fmt.Sprintf("cannot build scheme: %v", err))
	}
	if err := imagev1.Install(scheme); err != nil {
		panic(fmt.Sprintf("cannot build scheme: %v", err))
	}
	return scheme
}

// kindInfo is what the fake knows about one kind it serves.
type kindInfo struct {
	gvk       schema.GroupVersionKind
	resource  schema.GroupResource
	hasStatus bool
	// virtual kinds have no storage of their own (ImageStreamTag,
	// ImageStreamImport); the client routes them to their own handlers.
	virtual bool
	// fieldSet adds the kind's selectable fields beyond metadata.name and
	// metadata.namespace.
	fieldSet func(obj runtimeObject) map[string]string
}

type runtimeObject = runtime.Object

var (
	imageStreamGVK       = imagev1.GroupVersion.WithKind("ImageStream")
	imageStreamTagGVK    = imagev1.GroupVersion.WithKind("ImageStreamTag")
	imageStreamImportGVK = imagev1.GroupVersion.WithKind("ImageStreamImport")
	podGVK               = corev1.SchemeGroupVersion.WithKind("Pod")
	configMapGVK         = corev1.SchemeGroupVersion.WithKind("ConfigMap")
)

var servedKinds = []kindInfo{
	{gvk: imageStreamGVK, resource: imagev1.Resource("imagestreams"), hasStatus: true, fieldSet: func(o runtimeObject) map[string]string {
		is := o.(*imagev1.ImageStream)
		return map[string]string{"spec.dockerImageRepository": is.Spec.DockerImageRepository, "status.dockerImageRepository": is.Status.DockerImageRepository}
	}},
	{gvk: imageStreamTagGVK, resource: imagev1.Resource("imagestreamtags"), virtual: true},
	{gvk: imageStreamImportGVK, resource: imagev1.Resource("imagestreamimports"), virtual: true},
	{gvk: podGVK, resource: corev1.Resource("pods"), hasStatus: true, fieldSet: func(o runtimeObject) map[string]string {
		pod := o.(*corev1.Pod)
		return map[string]string{"spec.nodeName": pod.Spec.NodeName, "status.phase": string(pod.Status.Phase)}
	}},
	{gvk: configMapGVK, resource: corev1.Resource("configmaps")},
	{gvk: corev1.SchemeGroupVersion.WithKind("Secret"), resource: corev1.Resource("secrets")},
	{gvk: corev1.SchemeGroupVersion.WithKind("ServiceAccount"), resource: corev1.Resource("serviceaccounts")},
	{gvk: corev1.SchemeGroupVersion.WithKind("Namespace"), resource: corev1.Resource("namespaces"), hasStatus: true},
	{gvk: rbacv1.SchemeGroupVersion.WithKind("Role"), resource: rbacv1.Resource("roles")},
	{gvk: rbacv1.SchemeGroupVersion.WithKind("RoleBinding"), resource: rbacv1.Resource("rolebindings")},
	{gvk: coordinationv1.SchemeGroupVersion.WithKind("Lease"), resource: coordinationv1.Resource("leases")},
}

func kindFor(gvk schema.GroupVersionKind) (kindInfo, bool) {
	for _, k := range servedKinds {
		if k.gvk == gvk {
			return k, true
		}
	}
	return kindInfo{}, false
}

// newRESTMapper maps the served kinds to their resources.
func newRESTMapper() meta.RESTMapper {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, k := range servedKinds {
		scope := meta.RESTScopeNamespace
		if k.gvk.Kind == "Namespace" {
			scope = meta.RESTScopeRoot
		}
		mapper.AddSpecific(k.gvk, k.gvk.GroupVersion().WithResource(k.resource.Resource),
			k.gvk.GroupVersion().WithResource(k.resource.Resource[:len(k.resource.Resource)-1]), scope)
	}
	return mapper
}

// typeConverter routes OpenShift image kinds to openshift/client-go's schema
// and everything else to client-go's, so spec.tags merges by name exactly as
// on openshift-apiserver (an atomic list would let one manager wipe another's
// tags).
type typeConverter struct {
	image, core managedfields.TypeConverter
	scheme      *runtime.Scheme
}

func newTypeConverter(scheme *runtime.Scheme) *typeConverter {
	return &typeConverter{
		image:  imagev1applyconfigurations.NewTypeConverter(scheme),
		core:   clientgoapplyconfigurations.NewTypeConverter(scheme),
		scheme: scheme,
	}
}

func (c *typeConverter) pick(obj runtime.Object) (managedfields.TypeConverter, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		var err error
		if gvk, err = apiutil.GVKForObject(obj, c.scheme); err != nil {
			return nil, err
		}
	}
	if gvk.Group == imagev1.GroupName {
		return c.image, nil
	}
	return c.core, nil
}

func (c *typeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	tc, err := c.pick(obj)
	if err != nil {
		return nil, err
	}
	return tc.ObjectToTyped(obj, opts...)
}

func (c *typeConverter) TypedToObject(value *typed.TypedValue) (runtime.Object, error) {
	// Both converters build unstructured objects from a typed value; either will do.
	return c.core.TypedToObject(value)
}

// noDefaults is the defaulter handed to the field manager; the fake applies
// its own defaults in the strategies, after the merge.
type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}

// resetFields lists, per subresource, the fields a write through it may not
// change: status through the main resource, everything but status through
// the status subresource.
func resetFields(gvk schema.GroupVersionKind, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	k, ok := kindFor(gvk)
	if !ok || !k.hasStatus {
		return nil
	}
	version := fieldpath.APIVersion(gvk.GroupVersion().String())
	if subresource == "status" {
		return map[fieldpath.APIVersion]fieldpath.Filter{version: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"), fieldpath.MakePathOrDie("metadata", "annotations"),
		))}
	}
	return map[fieldpath.APIVersion]fieldpath.Filter{version: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status")))}
}
