package fakeopenshift

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// backend is what the import controller and the kubelet read, watch and
// write: the fake's own store (storeBackend), or a real apiserver through a
// controller-runtime client (clientBackend, see NewControllers). The
// controllers' logic is the same on both; only these calls differ.
type backend interface {
	// client is a client for one process.
	client(process string) ctrlruntimeclient.WithWatch
	// get returns a copy of one object, or nil when it does not exist or
	// cannot be read (the controllers treat both alike: no login, no
	// service account).
	get(ctx context.Context, key objectKey) ctrlruntimeclient.Object
	// list returns the objects of one kind in a namespace.
	list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) []ctrlruntimeclient.Object
	// watch starts a watch of every object of one kind, beginning with an
	// ADDED event per existing object.
	watch(ctx context.Context, gvk schema.GroupVersionKind) (watch.Interface, error)
	// bindPod binds a pod to NodeName, as the scheduler does; false when
	// the pod is gone, replaced or Terminating.
	bindPod(ctx context.Context, pod *corev1.Pod) bool
}

// storeBackend is the fake's store: reads and watches go to it directly and
// are not accounted, as an informer's cache is not.
type storeBackend struct{ cluster *Cluster }

func (b storeBackend) client(process string) ctrlruntimeclient.WithWatch {
	return &client{cluster: b.cluster, process: process}
}

func (b storeBackend) get(_ context.Context, key objectKey) ctrlruntimeclient.Object {
	return b.cluster.store.get(key)
}

func (b storeBackend) list(_ context.Context, gvk schema.GroupVersionKind, namespace string) []ctrlruntimeclient.Object {
	objs, _ := b.cluster.store.list(gvk, filter{namespace: namespace})
	return objs
}

func (b storeBackend) watch(_ context.Context, gvk schema.GroupVersionKind) (watch.Interface, error) {
	return b.cluster.store.watch(gvk, filter{}, "0", nil)
}

func (b storeBackend) bindPod(_ context.Context, pod *corev1.Pod) bool {
	return b.cluster.bindPod(pod)
}
