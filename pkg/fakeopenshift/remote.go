package fakeopenshift

import (
	"context"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// NewControllers runs the fake's import controller and kubelet, with its
// registry, as clients of a real apiserver that client talks to, instead of
// against the fake's store. The apiserver must serve ImageStream with a
// status subresource and stamp tag generations as openshift-apiserver does
// (StampImageStreamCreate and StampImageStreamUpdate, e.g. from a mutating
// admission webhook); test/integration sets that up with envtest.
//
// The returned Cluster's Client(process) is client with process as its
// default field manager; Registry serves the images (registry faults
// apply); Stop stops the controllers. Stats counts what the controllers did
// (Imports, ImportAttempts, ImportConflicts); InjectPodFault and
// StickImportController work as on the fake. What belongs to the fake
// apiserver does not apply: request accounting, InjectFault, request
// latency, watch history, the image API's virtual resources
// (ImageStreamImport, ImageStreamTag) and image policy admission at pod
// creation (the kubelet still resolves local names when it starts a pod).
// Options.Objects is ignored: create objects through Client.
//
// What differs from the fake's store, because a custom resource with a
// status subresource cannot write spec and status in one request: an import
// writes the stream's status alone (new status entries carry the tag's spec
// generation; the stream and tag generations do not move), and the
// openshift.io/image.dockerRepositoryCheck annotation is not set; a
// pod is bound through the pods/binding subresource.
func NewControllers(ctx context.Context, client ctrlruntimeclient.WithWatch, opts ...Option) *Cluster {
	c := newCluster(ctx, opts...)
	c.backend = clientBackend{cluster: c, base: client}
	c.imports = newImportController(c)
	c.kubelet = newKubelet(c)
	c.start(c.imports.run)
	c.start(c.kubelet.run)
	return c
}

// clientBackend reaches a real apiserver through a controller-runtime client.
type clientBackend struct {
	cluster *Cluster
	base    ctrlruntimeclient.WithWatch
}

func (b clientBackend) client(process string) ctrlruntimeclient.WithWatch {
	return fieldOwnerClient{Client: ctrlruntimeclient.WithFieldOwner(b.base, process), watcher: b.base}
}

func (b clientBackend) get(ctx context.Context, key objectKey) ctrlruntimeclient.Object {
	obj, err := b.cluster.scheme.New(key.gvk)
	if err != nil {
		return nil
	}
	out := obj.(ctrlruntimeclient.Object)
	if err := b.base.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: key.namespace, Name: key.name}, out); err != nil {
		return nil
	}
	return out
}

func (b clientBackend) list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) []ctrlruntimeclient.Object {
	list, err := b.newList(gvk)
	if err != nil || b.base.List(ctx, list, ctrlruntimeclient.InNamespace(namespace)) != nil {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]ctrlruntimeclient.Object, 0, len(items))
	for _, item := range items {
		out = append(out, item.(ctrlruntimeclient.Object))
	}
	return out
}

func (b clientBackend) newList(gvk schema.GroupVersionKind) (ctrlruntimeclient.ObjectList, error) {
	obj, err := b.cluster.scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return nil, err
	}
	return obj.(ctrlruntimeclient.ObjectList), nil
}

// watch watches every object of the kind in all namespaces. Without a
// resourceVersion the apiserver starts with an ADDED event per object, as
// the store does. The controllers expect objects of the kind only: an ERROR
// event (an expired watch) ends the watch, and they start a new one.
func (b clientBackend) watch(ctx context.Context, gvk schema.GroupVersionKind) (watch.Interface, error) {
	list, err := b.newList(gvk)
	if err != nil {
		return nil, err
	}
	w, err := b.base.Watch(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("could not watch %s: %w", gvk.Kind, err)
	}
	return watch.Filter(w, func(ev watch.Event) (watch.Event, bool) {
		if ev.Type == watch.Error {
			w.Stop()
		}
		return ev, ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted
	}), nil
}

// bindPod posts a Binding, conditional on the pod's UID, as the scheduler
// does; the apiserver sets spec.nodeName and the PodScheduled condition.
func (b clientBackend) bindPod(ctx context.Context, pod *corev1.Pod) bool {
	if pod.Spec.NodeName != "" {
		return true
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
	}
	return b.client(SchedulerProcess).SubResource("binding").Create(ctx, pod, binding) == nil
}

// fieldOwnerClient is a client with a default field manager that can watch.
type fieldOwnerClient struct {
	ctrlruntimeclient.Client
	watcher ctrlruntimeclient.WithWatch
}

func (c fieldOwnerClient) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	return c.watcher.Watch(ctx, list, opts...)
}

// syncThroughClient is the controller's sync on a real apiserver: it imports
// the tags that need it and writes the results, with the status the server
// computes (repositories, reference tags), through the status subresource,
// conditional on the resourceVersion it read. A write to the stream in the
// meantime makes it fail with 409, and next retries with backoff, as the
// controller's import does on OpenShift.
func (ic *importController) syncThroughClient(ctx context.Context, key objectKey) error {
	c := ic.cluster
	client := c.backend.client(ControllerProcess)
	live := &imagev1.ImageStream{}
	if err := client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: key.namespace, Name: key.name}, live); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("could not read image stream %s/%s: %w", key.namespace, key.name, err)
	}
	is := live.DeepCopy()
	c.imageStreamDecorate(is)
	isi := importRequest(is)
	var imported []string
	if len(isi.Spec.Images) > 0 {
		results := c.resolveAll(ctx, isi)
		if err := ctx.Err(); err != nil {
			return err
		}
		now := c.now()
		for i, r := range results {
			spec := isi.Spec.Images[i]
			generation := *specTag(is, spec.To.Name).Generation
			c.stats.update(func(s *Stats) { s.ImportAttempts[TagKey{is.Namespace, is.Name, spec.To.Name}]++ })
			if c.applyImportResult(is, spec, r, generation, now) {
				imported = append(imported, spec.To.Name)
			}
		}
	}
	if apiequality.Semantic.DeepEqual(is.Status, live.Status) {
		return nil
	}
	// The imports are counted before the write and taken back if it fails,
	// so that the counters are never behind what a reader of the stream
	// sees, as on the fake's store. Only this worker imports this stream
	// meanwhile: the queue hands a key to one worker at a time.
	count := func(delta int) {
		c.stats.update(func(s *Stats) {
			for _, tag := range imported {
				s.Imports[TagKey{is.Namespace, is.Name, tag}] += delta
			}
		})
	}
	count(1)
	if err := client.Status().Update(ctx, is); err != nil {
		count(-1)
		return fmt.Errorf("could not write the imports of image stream %s/%s: %w", is.Namespace, is.Name, err)
	}
	return nil
}
