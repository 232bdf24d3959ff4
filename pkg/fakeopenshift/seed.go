package fakeopenshift

import (
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// SeedManager is the field manager that seeded objects are recorded under.
const SeedManager = "fakeopenshift-seed"

// WithObjects seeds the cluster with objects before its controllers start,
// as controller-runtime's fake.NewClientBuilder().WithObjects does. Each is
// created through the apiserver's create path (names are validated,
// generations and defaults set), then its status, where the kind has one
// and the object carries it, is written as given: an ImageStream can start
// with tags already imported, a Pod already Succeeded. Seeding is not
// counted in Stats. New panics on an object it cannot store, as a test
// fixture that is wrong should stop the test at once.
func WithObjects(objs ...ctrlruntimeclient.Object) Option {
	return func(o *Options) { o.Objects = append(o.Objects, objs...) }
}

func (c *Cluster) seed(objs []ctrlruntimeclient.Object) error {
	for _, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, c.scheme)
		if err != nil {
			return err
		}
		k, ok := kindFor(gvk)
		if !ok || k.virtual {
			return fmt.Errorf("fakeopenshift: cannot seed kind %s", gvk)
		}
		obj = obj.DeepCopyObject().(ctrlruntimeclient.Object)
		obj.SetResourceVersion("")
		res, err := c.create(k, obj, SeedManager)
		if err != nil {
			return fmt.Errorf("fakeopenshift: cannot seed %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		if !k.hasStatus || isZeroStatus(obj) {
			continue
		}
		withStatus := res.object.DeepCopyObject().(ctrlruntimeclient.Object)
		setStatus(withStatus, obj)
		if _, err := c.update(k, withStatus, "status", SeedManager); err != nil {
			return fmt.Errorf("fakeopenshift: cannot seed the status of %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

func statusField(obj any) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName("Status")
}

func isZeroStatus(obj ctrlruntimeclient.Object) bool {
	f := statusField(obj)
	return !f.IsValid() || equality.Semantic.DeepEqual(f.Interface(), reflect.Zero(f.Type()).Interface())
}

func setStatus(dst, src ctrlruntimeclient.Object) {
	statusField(dst).Set(statusField(src))
}
