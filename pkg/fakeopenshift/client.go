package fakeopenshift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// client is the controller-runtime client of one simulated process. It
// behaves like a client of a real apiserver: typed objects in and out, API
// errors as *apierrors.StatusError, TypeMeta left empty on typed results.
type client struct {
	cluster *Cluster
	process string
}

var _ ctrlruntimeclient.WithWatch = &client{}

func (c *client) Scheme() *runtime.Scheme     { return c.cluster.scheme }
func (c *client) RESTMapper() meta.RESTMapper { return c.cluster.mapper }

func (c *client) GroupVersionKindFor(obj runtime.Object) (schema.GroupVersionKind, error) {
	return apiutil.GVKForObject(obj, c.cluster.scheme)
}

func (c *client) IsObjectNamespaced(obj runtime.Object) (bool, error) {
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return false, err
	}
	return gvk.Kind != "Namespace", nil
}

// kindOf resolves the served kind of obj (a list type resolves to its items).
func (c *client) kindOf(obj runtime.Object) (kindInfo, error) {
	if _, ok := obj.(runtime.Unstructured); ok {
		return kindInfo{}, fmt.Errorf("fakeopenshift: unstructured objects are not supported; use typed objects")
	}
	gvk, err := apiutil.GVKForObject(obj, c.cluster.scheme)
	if err != nil {
		return kindInfo{}, err
	}
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	k, ok := kindFor(gvk)
	if !ok {
		return kindInfo{}, fmt.Errorf("fakeopenshift: kind %s is not served", gvk)
	}
	return k, nil
}

// open resolves the kind of obj, then accounts for the request and applies
// the API latency and faults (see begin).
func (c *client) open(ctx context.Context, obj runtime.Object, verb string) (kindInfo, error) {
	k, err := c.kindOf(obj)
	if err != nil {
		return kindInfo{}, err
	}
	return k, c.begin(ctx, verb, k)
}

// begin accounts for a request and applies the API latency and the faults
// injected for it.
func (c *client) begin(ctx context.Context, verb string, k kindInfo) error {
	c.cluster.stats.request(c.process, verb, k.gvk.Kind)
	if err := apiretry.Sleep(ctx, c.cluster.opts.Latency.API); err != nil {
		return err
	}
	return c.cluster.faults.before(c.process, verb, k.gvk.Kind)
}

// counted accounts for a write of the client's when it is stored (see
// store.write), so the counters are never behind the watch events.
func (c *client) counted(verb string, k kindInfo) commitFunc {
	return func(writeResult) { c.cluster.stats.write(c.process, verb, k.gvk.Kind) }
}

// end applies faults that strike after the write landed (a timeout the
// client sees although the server wrote).
func (c *client) end(verb string, k kindInfo, _ writeResult, err error) error {
	if err != nil {
		return asAPIError(err)
	}
	return c.cluster.faults.after(c.process, verb, k.gvk.Kind)
}

// asAPIError turns an error of the server side into what a client of a real
// apiserver receives: the apiserver's ErrorToAPIStatus makes any error that
// is not already a Status a 500 with reason Unknown (the field manager's
// "duplicate entries" error, for one).
func asAPIError(err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonUnknown, Message: err.Error(),
	}}
}

func (c *client) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, _ ...ctrlruntimeclient.GetOption) error {
	k, err := c.open(ctx, obj, "get")
	if err != nil {
		return err
	}
	switch k.gvk {
	case imageStreamTagGVK:
		istag, err := c.cluster.getImageStreamTag(key.Namespace, key.Name)
		if err != nil {
			return err
		}
		copyInto(obj, istag)
		return nil
	case imageStreamImportGVK:
		return apierrors.NewMethodNotSupported(k.resource, "get")
	}
	live := c.cluster.store.get(objectKey{gvk: k.gvk, namespace: key.Namespace, name: key.Name})
	if live == nil {
		return apierrors.NewNotFound(k.resource, key.Name)
	}
	copyInto(obj, live)
	return nil
}

func (c *client) listFilter(k kindInfo, opts []ctrlruntimeclient.ListOption) (filter, ctrlruntimeclient.ListOptions, error) {
	lo := ctrlruntimeclient.ListOptions{}
	lo.ApplyOptions(opts)
	if err := parseRawSelectors(&lo); err != nil {
		return filter{}, lo, err
	}
	f := filter{namespace: lo.Namespace, labels: lo.LabelSelector, fields: lo.FieldSelector}
	if k.fieldSet != nil {
		f.fieldSet = func(o ctrlruntimeclient.Object) fields.Set { return k.fieldSet(o) }
	}
	if lo.FieldSelector != nil {
		for _, req := range lo.FieldSelector.Requirements() {
			switch req.Field {
			case "metadata.name", "metadata.namespace":
				continue
			}
			if k.fieldSet == nil {
				return f, lo, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
			// Build a sample to learn which fields the kind supports.
			sample, _ := c.cluster.scheme.New(k.gvk)
			if _, ok := k.fieldSet(sample)[req.Field]; !ok {
				return f, lo, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
	}
	return f, lo, nil
}

// parseRawSelectors takes the selectors of lo.Raw where lo has no typed
// ones, as the real client does (ListOptions.AsListOptions sends the raw
// strings unless typed selectors override them): a ListWatch passes its
// selectors that way.
func parseRawSelectors(lo *ctrlruntimeclient.ListOptions) error {
	if lo.Raw == nil {
		return nil
	}
	if lo.LabelSelector == nil && lo.Raw.LabelSelector != "" {
		sel, err := labels.Parse(lo.Raw.LabelSelector)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		lo.LabelSelector = sel
	}
	if lo.FieldSelector == nil && lo.Raw.FieldSelector != "" {
		sel, err := fields.ParseSelector(lo.Raw.FieldSelector)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		lo.FieldSelector = sel
	}
	return nil
}

func (c *client) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
	k, err := c.open(ctx, list, "list")
	if err != nil {
		return err
	}
	if k.virtual {
		return apierrors.NewMethodNotSupported(k.resource, "list")
	}
	f, _, err := c.listFilter(k, opts)
	if err != nil {
		return err
	}
	items, rv := c.cluster.store.list(k.gvk, f)
	objs := make([]runtime.Object, len(items))
	for i := range items {
		objs[i] = items[i]
	}
	if err := meta.SetList(list, objs); err != nil {
		return err
	}
	list.SetResourceVersion(rv)
	return nil
}

func (c *client) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	k, err := c.open(ctx, list, "watch")
	if err != nil {
		return nil, err
	}
	if k.virtual {
		return nil, apierrors.NewMethodNotSupported(k.resource, "watch")
	}
	f, lo, err := c.listFilter(k, opts)
	if err != nil {
		return nil, err
	}
	rv := ""
	if lo.Raw != nil {
		rv = lo.Raw.ResourceVersion
	}
	w, err := c.cluster.store.watch(k.gvk, f, rv)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			w.Stop()
		case <-w.(*watcher).done:
		}
	}()
	return w, nil
}

func (c *client) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	k, err := c.open(ctx, obj, "create")
	if err != nil {
		return err
	}
	co := ctrlruntimeclient.CreateOptions{}
	co.ApplyOptions(opts)
	if len(co.DryRun) > 0 {
		return apierrors.NewBadRequest("fakeopenshift: dry run is not supported")
	}
	switch k.gvk {
	case imageStreamTagGVK:
		res, err := c.cluster.createImageStreamTag(obj.(*imagev1.ImageStreamTag), c.manager(co.FieldManager), c.counted("create", k))
		if err := c.end("create", k, res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.istag)
		return nil
	case imageStreamImportGVK:
		res, err := c.cluster.importImages(ctx, obj.(*imagev1.ImageStreamImport), c.process, c.counted("create", k))
		if err := c.end("create", k, res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.isi)
		return nil
	}
	if obj.GetResourceVersion() != "" {
		return apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	name := obj.GetName()
	if name == "" && obj.GetGenerateName() != "" {
		name = obj.GetGenerateName() + utilrand.String(5)
	}
	if name == "" {
		return apierrors.NewInvalid(k.gvk.GroupKind(), "", nil)
	}
	next := obj.DeepCopyObject().(ctrlruntimeclient.Object)
	next.SetName(name)
	fm, err := c.cluster.fieldManager(k.gvk, "")
	if err != nil {
		return err
	}
	manager := c.manager(co.FieldManager)
	res, err := c.cluster.store.write(k.gvk, k.resource, keyOf(k.gvk, next), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live != nil {
			return nil, apierrors.NewAlreadyExists(k.resource, name)
		}
		empty, _ := c.cluster.scheme.New(k.gvk)
		merged, err := fm.Update(empty, next, manager)
		if err != nil {
			return nil, err
		}
		out := merged.(ctrlruntimeclient.Object)
		return out, c.cluster.prepareForCreate(out)
	}, c.counted("create", k), func(writeResult) {
		if k.gvk == podGVK {
			c.cluster.stats.update(func(s *Stats) { s.PodsCreated[next.GetNamespace()+"/"+name]++ })
		}
	})
	if err := c.end("create", k, res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

// manager is the field manager a request records: the one the client names,
// or the process name, as a real client defaults to its user agent.
func (c *client) manager(requested string) string {
	if requested != "" {
		return requested
	}
	return c.process
}

func (c *client) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	k, err := c.open(ctx, obj, "update")
	if err != nil {
		return err
	}
	uo := ctrlruntimeclient.UpdateOptions{}
	uo.ApplyOptions(opts)
	switch k.gvk {
	case imageStreamTagGVK:
		res, err := c.cluster.updateImageStreamTag(obj.(*imagev1.ImageStreamTag), c.manager(uo.FieldManager), c.counted("update", k))
		if err := c.end("update", k, res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.istag)
		return nil
	case imageStreamImportGVK:
		return apierrors.NewMethodNotSupported(k.resource, "update")
	}
	res, err := c.cluster.update(k, obj.DeepCopyObject().(ctrlruntimeclient.Object), "", c.manager(uo.FieldManager), c.counted("update", k))
	if err := c.end("update", k, res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

// update writes a whole object through the main resource or a subresource,
// with the object's resourceVersion as precondition when it is set.
func (cl *Cluster) update(k kindInfo, next ctrlruntimeclient.Object, subresource, manager string, onCommit ...commitFunc) (writeResult, error) {
	fm, err := cl.fieldManager(k.gvk, subresource)
	if err != nil {
		return writeResult{}, err
	}
	if is, ok := next.(*imagev1.ImageStream); ok {
		normalizeTags(is)
	}
	return cl.store.write(k.gvk, k.resource, keyOf(k.gvk, next), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil {
			return nil, apierrors.NewNotFound(k.resource, next.GetName())
		}
		if k.gvk == imageStreamGVK && next.GetResourceVersion() == "" {
			// openshift-apiserver's ImageStream strategy does not allow
			// unconditional updates (AllowUnconditionalUpdate is false).
			return nil, apierrors.NewInvalid(schema.GroupKind{Group: k.resource.Group, Kind: k.resource.Resource}, next.GetName(),
				field.ErrorList{field.Invalid(field.NewPath("metadata", "resourceVersion"), 0, "must be specified for an update")})
		}
		if err := checkPreconditions(k.resource, next.GetName(), live, next.GetResourceVersion(), ""); err != nil {
			return nil, err
		}
		next.SetResourceVersion(live.GetResourceVersion())
		return cl.updateWith(fm, live, next, subresource, manager)
	}, onCommit...)
}

// updateWith records next as manager's update of live and runs the strategy
// of the main resource or the status subresource.
func (cl *Cluster) updateWith(fm *managedfields.FieldManager, live, next ctrlruntimeclient.Object, subresource, manager string) (ctrlruntimeclient.Object, error) {
	merged, err := fm.Update(live, next, manager)
	if err != nil {
		return nil, err
	}
	out := merged.(ctrlruntimeclient.Object)
	if subresource == "status" {
		return out, cl.prepareForStatusUpdate(out, live)
	}
	return out, cl.prepareForUpdate(out, live)
}

// apply runs a server-side apply of applied (an unstructured apply
// configuration) through the main resource or a subresource.
func (cl *Cluster) apply(k kindInfo, applied *unstructured.Unstructured, subresource, manager string, force bool, onCommit ...commitFunc) (writeResult, error) {
	if manager == "" {
		return writeResult{}, apierrors.NewBadRequest("PATCH: fieldManager is required for apply requests")
	}
	fm, err := cl.fieldManager(k.gvk, subresource)
	if err != nil {
		return writeResult{}, err
	}
	key := objectKey{gvk: k.gvk, namespace: applied.GetNamespace(), name: applied.GetName()}
	return cl.store.write(k.gvk, k.resource, key, func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		exists := live != nil
		if !exists {
			if subresource != "" {
				return nil, apierrors.NewNotFound(k.resource, key.name)
			}
			empty, _ := cl.scheme.New(k.gvk)
			live = empty.(ctrlruntimeclient.Object)
			live.SetName(key.name)
			live.SetNamespace(key.namespace)
		} else if err := checkPreconditions(k.resource, key.name, live, applied.GetResourceVersion(), applied.GetUID()); err != nil {
			return nil, err
		}
		merged, err := fm.Apply(live, applied, manager, force)
		if err != nil {
			return nil, err
		}
		out := merged.(ctrlruntimeclient.Object)
		switch {
		case !exists:
			return out, cl.prepareForCreate(out)
		case subresource == "status":
			return out, cl.prepareForStatusUpdate(out, live)
		default:
			return out, cl.prepareForUpdate(out, live)
		}
	}, onCommit...)
}

// patch applies a JSON merge, JSON or strategic merge patch to the live object
// and writes the result as an update.
func (cl *Cluster) patch(k kindInfo, obj ctrlruntimeclient.Object, patchType types.PatchType, data []byte, subresource, manager string, onCommit ...commitFunc) (writeResult, error) {
	fm, err := cl.fieldManager(k.gvk, subresource)
	if err != nil {
		return writeResult{}, err
	}
	return cl.store.write(k.gvk, k.resource, keyOf(k.gvk, obj), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil {
			return nil, apierrors.NewNotFound(k.resource, obj.GetName())
		}
		liveJSON, err := json.Marshal(live)
		if err != nil {
			return nil, err
		}
		var patched []byte
		switch patchType {
		case types.MergePatchType:
			patched, err = jsonpatch.MergePatch(liveJSON, data)
		case types.JSONPatchType:
			var p jsonpatch.Patch
			if p, err = jsonpatch.DecodePatch(data); err == nil {
				patched, err = p.Apply(liveJSON)
			}
		case types.StrategicMergePatchType:
			if k.gvk.Group == imagev1.GroupName {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("patch type %s is not supported for %s", patchType, k.resource))
			}
			patched, err = strategicpatch.StrategicMergePatch(liveJSON, data, live)
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("patch type %s is not supported for %s", patchType, k.resource))
		}
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the patch could not be applied: %v", err))
		}
		empty, _ := cl.scheme.New(k.gvk)
		next := empty.(ctrlruntimeclient.Object)
		if err := json.Unmarshal(patched, next); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the patched object is invalid: %v", err))
		}
		// A patch that carries a resourceVersion is an optimistic lock.
		if next.GetResourceVersion() != live.GetResourceVersion() {
			return nil, apierrors.NewConflict(k.resource, obj.GetName(), fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		if is, ok := next.(*imagev1.ImageStream); ok {
			normalizeTags(is)
		}
		return cl.updateWith(fm, live, next, subresource, manager)
	}, onCommit...)
}

func (c *client) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	po := ctrlruntimeclient.PatchOptions{}
	po.ApplyOptions(opts)
	return c.doPatch(ctx, obj, patch, "", po.FieldManager, po.Force != nil && *po.Force)
}

func (c *client) doPatch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, subresource, manager string, force bool) error {
	k, err := c.open(ctx, obj, "patch")
	if err != nil {
		return err
	}
	if k.virtual {
		return apierrors.NewMethodNotSupported(k.resource, "patch")
	}
	data, err := patch.Data(obj)
	if err != nil {
		return err
	}
	var res writeResult
	if patch.Type() == types.ApplyPatchType {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
		if u.GetName() == "" {
			u.SetName(obj.GetName())
		}
		if u.GetNamespace() == "" {
			u.SetNamespace(obj.GetNamespace())
		}
		res, err = c.cluster.apply(k, u, subresource, manager, force, c.counted("patch", k))
	} else {
		res, err = c.cluster.patch(k, obj, patch.Type(), data, subresource, c.manager(manager), c.counted("patch", k))
	}
	if err := c.end("patch", k, res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

func (c *client) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	data, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("cannot encode apply configuration: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("cannot decode apply configuration: %w", err)
	}
	gvk := u.GroupVersionKind()
	k, ok := kindFor(gvk)
	if !ok {
		return fmt.Errorf("fakeopenshift: kind %s is not served", gvk)
	}
	if err := c.begin(ctx, "apply", k); err != nil {
		return err
	}
	if k.virtual {
		return apierrors.NewMethodNotSupported(k.resource, "patch")
	}
	ao := ctrlruntimeclient.ApplyOptions{}
	ao.ApplyOptions(opts)
	res, err := c.cluster.apply(k, u, "", ao.FieldManager, ao.Force != nil && *ao.Force, c.counted("apply", k))
	if err := c.end("apply", k, res, err); err != nil {
		// A client decodes nothing from an error response.
		return err
	}
	// As a real client does, decode the server's answer into the apply
	// configuration.
	out, err := json.Marshal(withTypeMeta(res.object, gvk))
	if err != nil {
		return err
	}
	return json.Unmarshal(out, ac)
}

func (c *client) Delete(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
	k, err := c.open(ctx, obj, "delete")
	if err != nil {
		return err
	}
	do := ctrlruntimeclient.DeleteOptions{}
	do.ApplyOptions(opts)
	var rv string
	var uid types.UID
	if do.Preconditions != nil {
		if do.Preconditions.ResourceVersion != nil {
			rv = *do.Preconditions.ResourceVersion
		}
		if do.Preconditions.UID != nil {
			uid = *do.Preconditions.UID
		}
	}
	switch k.gvk {
	case imageStreamTagGVK:
		res, err := c.cluster.deleteImageStreamTag(obj.GetNamespace(), obj.GetName(), c.process, c.counted("delete", k))
		return c.end("delete", k, res, err)
	case imageStreamImportGVK:
		return apierrors.NewMethodNotSupported(k.resource, "delete")
	}
	res, err := c.cluster.store.write(k.gvk, k.resource, keyOf(k.gvk, obj), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil {
			return nil, apierrors.NewNotFound(k.resource, obj.GetName())
		}
		return nil, checkPreconditions(k.resource, obj.GetName(), live, rv, uid)
	}, c.counted("delete", k))
	return c.end("delete", k, res, err)
}

func (c *client) DeleteAllOf(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteAllOfOption) error {
	k, err := c.open(ctx, obj, "deletecollection")
	if err != nil {
		return err
	}
	if k.virtual {
		return apierrors.NewMethodNotSupported(k.resource, "deletecollection")
	}
	dao := ctrlruntimeclient.DeleteAllOfOptions{}
	dao.ApplyOptions(opts)
	if err := parseRawSelectors(&dao.ListOptions); err != nil {
		return err
	}
	f := filter{namespace: dao.Namespace, labels: dao.LabelSelector, fields: dao.FieldSelector}
	items, _ := c.cluster.store.list(k.gvk, f)
	for _, item := range items {
		_, err := c.cluster.store.write(k.gvk, k.resource, keyOf(k.gvk, item), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
			if live == nil {
				return nil, apierrors.NewNotFound(k.resource, item.GetName())
			}
			return nil, nil
		}, c.counted("delete", k))
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (c *client) Status() ctrlruntimeclient.SubResourceWriter { return c.SubResource("status") }

func (c *client) SubResource(subResource string) ctrlruntimeclient.SubResourceClient {
	return &subResourceClient{client: c, name: subResource}
}

type subResourceClient struct {
	client *client
	name   string
}

func (s *subResourceClient) Get(context.Context, ctrlruntimeclient.Object, ctrlruntimeclient.Object, ...ctrlruntimeclient.SubResourceGetOption) error {
	return fmt.Errorf("fakeopenshift: get of subresource %q is not supported", s.name)
}

func (s *subResourceClient) Create(context.Context, ctrlruntimeclient.Object, ctrlruntimeclient.Object, ...ctrlruntimeclient.SubResourceCreateOption) error {
	return fmt.Errorf("fakeopenshift: create of subresource %q is not supported", s.name)
}

func (s *subResourceClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceUpdateOption) error {
	if s.name != "status" {
		return fmt.Errorf("fakeopenshift: update of subresource %q is not supported", s.name)
	}
	k, err := s.client.open(ctx, obj, "update/status")
	if err != nil {
		return err
	}
	if !k.hasStatus {
		return apierrors.NewNotFound(k.resource, obj.GetName()+"/status")
	}
	uo := ctrlruntimeclient.SubResourceUpdateOptions{}
	uo.ApplyOptions(opts)
	res, err := s.client.cluster.update(k, obj.DeepCopyObject().(ctrlruntimeclient.Object), "status", s.client.manager(uo.FieldManager), s.client.counted("update/status", k))
	if err := s.client.end("update/status", k, res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

func (s *subResourceClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.SubResourcePatchOption) error {
	if s.name != "status" {
		return fmt.Errorf("fakeopenshift: patch of subresource %q is not supported", s.name)
	}
	po := ctrlruntimeclient.SubResourcePatchOptions{}
	po.ApplyOptions(opts)
	return s.client.doPatch(ctx, obj, patch, "status", po.FieldManager, po.Force != nil && *po.Force)
}

// copyInto sets *dst to *src; both are pointers to the same struct type.
func copyInto(dst, src runtime.Object) {
	reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src.DeepCopyObject()).Elem())
	dst.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
}

func withTypeMeta(obj ctrlruntimeclient.Object, gvk schema.GroupVersionKind) runtime.Object {
	out := obj.DeepCopyObject()
	out.GetObjectKind().SetGroupVersionKind(gvk)
	return out
}

var _ = metav1.Now
