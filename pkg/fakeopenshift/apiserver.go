package fakeopenshift

import (
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	imagev1 "github.com/openshift/api/image/v1"
)

// This file holds the apiserver's write paths for stored kinds: create,
// update, server-side apply, patch and delete, each a read-mutate-write
// through store.write with the kind's strategy. The client facade
// (client.go) only decodes options, accounts and hands over.

// create stores a new object, naming it from generateName when it has no
// name.
func (cl *Cluster) create(k kindInfo, obj ctrlruntimeclient.Object, manager string, onCommit ...commitFunc) (writeResult, error) {
	if obj.GetResourceVersion() != "" {
		return writeResult{}, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	name := obj.GetName()
	if name == "" && obj.GetGenerateName() != "" {
		name = obj.GetGenerateName() + utilrand.String(5)
	}
	if name == "" {
		return writeResult{}, apierrors.NewInvalid(k.gvk.GroupKind(), "", field.ErrorList{field.Required(field.NewPath("metadata", "name"), "name or generateName is required")})
	}
	next := obj.DeepCopyObject().(ctrlruntimeclient.Object)
	next.SetName(name)
	if pod, ok := next.(*corev1.Pod); ok {
		cl.resolveLocalImages(pod)
	}
	if err := validateObject(k, next); err != nil {
		return writeResult{}, err
	}
	fm, err := cl.fieldManager(k.gvk, "")
	if err != nil {
		return writeResult{}, err
	}
	if k.gvk == podGVK {
		onCommit = append(onCommit, func(writeResult) {
			cl.stats.update(func(s *Stats) { s.PodsCreated[next.GetNamespace()+"/"+name]++ })
		})
	}
	return cl.store.write(k.gvk, k.resource, keyOf(k.gvk, next), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live != nil {
			return nil, apierrors.NewAlreadyExists(k.resource, name)
		}
		empty, _ := cl.scheme.New(k.gvk)
		merged, err := fm.Update(empty, next, manager)
		if err != nil {
			return nil, err
		}
		out := merged.(ctrlruntimeclient.Object)
		return out, cl.prepareForCreate(out)
	}, onCommit...)
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
	if err := cl.validate(next); err != nil {
		return nil, err
	}
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
		if err := validateObject(k, out); err != nil {
			return nil, err
		}
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
		next, err := cl.patched(k, live, patchType, data)
		if err != nil {
			return nil, err
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

// patched returns live with the patch applied.
func (cl *Cluster) patched(k kindInfo, live ctrlruntimeclient.Object, patchType types.PatchType, data []byte) (ctrlruntimeclient.Object, error) {
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
	return next, nil
}

// delete removes an object, honouring resourceVersion and UID
// preconditions. A pod is deleted gracefully (see deletePod).
func (cl *Cluster) delete(k kindInfo, obj ctrlruntimeclient.Object, rv string, uid types.UID, grace *int64, onCommit ...commitFunc) (writeResult, error) {
	return cl.store.write(k.gvk, k.resource, keyOf(k.gvk, obj), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil {
			return nil, apierrors.NewNotFound(k.resource, obj.GetName())
		}
		if err := checkPreconditions(k.resource, obj.GetName(), live, rv, uid); err != nil {
			return nil, err
		}
		if pod, ok := live.(*corev1.Pod); ok {
			return cl.deletePod(pod, grace), nil
		}
		return nil, nil
	}, onCommit...)
}

// validate runs validateObject for obj's kind.
func (cl *Cluster) validate(obj ctrlruntimeclient.Object) error {
	gvk, err := apiutil.GVKForObject(obj, cl.scheme)
	if err != nil {
		return err
	}
	k, ok := kindFor(gvk)
	if !ok {
		return fmt.Errorf("fakeopenshift: kind %s is not served", gvk)
	}
	return validateObject(k, obj)
}
