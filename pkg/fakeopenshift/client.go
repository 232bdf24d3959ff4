package fakeopenshift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	imagev1 "github.com/openshift/api/image/v1"
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

// open resolves the kind of obj, then starts the request (see begin). The
// request is nil when the kind is not served: a real client fails before it
// sends anything.
func (c *client) open(ctx context.Context, obj runtime.Object, verb string) (*request, kindInfo, error) {
	k, err := c.kindOf(obj)
	if err != nil {
		return nil, kindInfo{}, err
	}
	req, err := c.begin(ctx, verb, k)
	return req, k, err
}

// begin accounts for a request and applies the API latency and the faults
// injected for it. The caller ends the request with req.finish.
func (c *client) begin(ctx context.Context, verb string, k kindInfo) (*request, error) {
	c.cluster.stats.request(c.process, verb, k.gvk.Kind)
	req := &request{client: c, verb: verb, kind: k.gvk.Kind}
	if err := sleep(ctx, c.cluster.opts.Latency.API); err != nil {
		return req, err
	}
	return req, c.cluster.faults.before(c.process, verb, k.gvk.Kind)
}

// counted accounts for a write of the client's when it is stored (see
// store.write), so the counters are never behind the watch events.
func (c *client) counted(verb string, k kindInfo) commitFunc {
	return func(writeResult) { c.cluster.stats.write(c.process, verb, k.gvk.Kind) }
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

func (c *client) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, _ ...ctrlruntimeclient.GetOption) (err error) {
	req, k, err := c.open(ctx, obj, "get")
	defer req.finish(&err)
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

func (c *client) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (err error) {
	req, k, err := c.open(ctx, list, "list")
	defer req.finish(&err)
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

func (c *client) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (_ watch.Interface, err error) {
	req, k, err := c.open(ctx, list, "watch")
	defer req.finish(&err)
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
	w, err := c.cluster.store.watch(k.gvk, f, rv, c.delivered)
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

func (c *client) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) (err error) {
	req, k, err := c.open(ctx, obj, "create")
	defer req.finish(&err)
	if err != nil {
		return err
	}
	co := ctrlruntimeclient.CreateOptions{}
	co.ApplyOptions(opts)
	req.manager = c.manager(co.FieldManager)
	req.body = bodySize(obj)
	if len(co.DryRun) > 0 {
		return apierrors.NewBadRequest("fakeopenshift: dry run is not supported")
	}
	switch k.gvk {
	case imageStreamTagGVK:
		res, err := c.cluster.createImageStreamTag(obj.(*imagev1.ImageStreamTag), req.manager, c.counted("create", k))
		if err := req.end(res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.istag)
		return nil
	case imageStreamImportGVK:
		res, err := c.cluster.importImages(ctx, obj.(*imagev1.ImageStreamImport), c.process, c.counted("create", k))
		if err := req.end(res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.isi)
		return nil
	}
	res, err := c.cluster.create(k, obj, req.manager, c.counted("create", k))
	if err := req.end(res, err); err != nil {
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

func (c *client) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) (err error) {
	req, k, err := c.open(ctx, obj, "update")
	defer req.finish(&err)
	if err != nil {
		return err
	}
	uo := ctrlruntimeclient.UpdateOptions{}
	uo.ApplyOptions(opts)
	req.manager = c.manager(uo.FieldManager)
	req.body = bodySize(obj)
	switch k.gvk {
	case imageStreamTagGVK:
		res, err := c.cluster.updateImageStreamTag(obj.(*imagev1.ImageStreamTag), req.manager, c.counted("update", k))
		if err := req.end(res.writeResult, err); err != nil {
			return err
		}
		copyInto(obj, res.istag)
		return nil
	case imageStreamImportGVK:
		return apierrors.NewMethodNotSupported(k.resource, "update")
	}
	res, err := c.cluster.update(k, obj.DeepCopyObject().(ctrlruntimeclient.Object), "", req.manager, c.counted("update", k))
	if err := req.end(res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

func (c *client) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	po := ctrlruntimeclient.PatchOptions{}
	po.ApplyOptions(opts)
	return c.doPatch(ctx, obj, patch, "", po.FieldManager, po.Force != nil && *po.Force)
}

func (c *client) doPatch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, subresource, manager string, force bool) (err error) {
	req, k, err := c.open(ctx, obj, "patch")
	defer req.finish(&err)
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
	req.body = len(data)
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
		req.verb, req.manager = "apply", manager
		res, err = c.cluster.apply(k, u, subresource, manager, force, c.counted("patch", k))
	} else {
		req.manager = c.manager(manager)
		res, err = c.cluster.patch(k, obj, patch.Type(), data, subresource, req.manager, c.counted("patch", k))
	}
	if err := req.end(res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

func (c *client) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) (err error) {
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
	ao := ctrlruntimeclient.ApplyOptions{}
	ao.ApplyOptions(opts)
	req, err := c.begin(ctx, "apply", k)
	req.manager, req.body = ao.FieldManager, len(data)
	defer req.finish(&err)
	if err != nil {
		return err
	}
	if k.virtual {
		return apierrors.NewMethodNotSupported(k.resource, "patch")
	}
	res, err := c.cluster.apply(k, u, "", ao.FieldManager, ao.Force != nil && *ao.Force, c.counted("apply", k))
	if err := req.end(res, err); err != nil {
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

func (c *client) Delete(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) (err error) {
	req, k, err := c.open(ctx, obj, "delete")
	defer req.finish(&err)
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
		return req.end(res, err)
	case imageStreamImportGVK:
		return apierrors.NewMethodNotSupported(k.resource, "delete")
	}
	res, err := c.cluster.delete(k, obj, rv, uid, do.GracePeriodSeconds, c.counted("delete", k))
	return req.end(res, err)
}

func (c *client) DeleteAllOf(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteAllOfOption) (err error) {
	req, k, err := c.open(ctx, obj, "deletecollection")
	defer req.finish(&err)
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
		res, err := c.cluster.delete(k, item, "", "", dao.GracePeriodSeconds, c.counted("delete", k))
		if err := req.end(res, err); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
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
