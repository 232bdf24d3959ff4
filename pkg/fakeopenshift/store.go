package fakeopenshift

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// objectKey addresses one stored object.
type objectKey struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
}

// event is one change to the store, kept in the history so that a watch can
// start from any resourceVersion the history still holds.
type event struct {
	kind   schema.GroupVersionKind
	typ    watch.EventType
	object ctrlruntimeclient.Object // shared by every watcher: never changed
	rv     uint64
	size   *eventSize
}

func newEvent(gvk schema.GroupVersionKind, typ watch.EventType, obj ctrlruntimeclient.Object, rv uint64) event {
	return event{kind: gvk, typ: typ, object: obj, rv: rv, size: &eventSize{}}
}

// eventSize is an event's size as JSON, worked out once for all the
// watchers that receive it, as kube-apiserver's watch cache serializes an
// event once for all of its watchers.
type eventSize struct {
	once sync.Once
	n    int
}

func (e *eventSize) of(obj runtime.Object) int {
	e.once.Do(func() { e.n = bodySize(obj) })
	return e.n
}

// store is the fake etcd plus the generic registry logic of an apiserver: one
// resourceVersion sequence for all objects, optimistic concurrency, no-op
// detection, and watches with a bounded history.
//
// Objects are held as typed objects and deep-copied on the way in and out.
// Every method takes the store's lock; nothing slow happens under it (write
// runs its mutation outside it).
type store struct {
	mu       sync.Mutex
	rv       uint64
	objects  map[objectKey]ctrlruntimeclient.Object
	history  []event
	oldest   uint64 // the oldest resourceVersion a watch may start from
	capacity int
	watchers map[*watcher]struct{}
	now      func() time.Time
}

func newStore(capacity int, now func() time.Time) *store {
	return &store{
		rv:       1,
		oldest:   1,
		objects:  map[objectKey]ctrlruntimeclient.Object{},
		watchers: map[*watcher]struct{}{},
		capacity: capacity,
		now:      now,
	}
}

func keyOf(gvk schema.GroupVersionKind, obj metav1.Object) objectKey {
	return objectKey{gvk: gvk, namespace: obj.GetNamespace(), name: obj.GetName()}
}

// get returns a copy of the stored object, or nil.
func (s *store) get(key objectKey) ctrlruntimeclient.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	if obj, ok := s.objects[key]; ok {
		return obj.DeepCopyObject().(ctrlruntimeclient.Object)
	}
	return nil
}

// list returns copies of the objects of one kind that match the filter, and
// the resourceVersion the list is consistent with.
func (s *store) list(gvk schema.GroupVersionKind, f filter) ([]ctrlruntimeclient.Object, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ctrlruntimeclient.Object
	for key, obj := range s.objects {
		if key.gvk != gvk || !f.matches(obj) {
			continue
		}
		out = append(out, obj.DeepCopyObject().(ctrlruntimeclient.Object))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out, strconv.FormatUint(s.rv, 10)
}

// mutateFunc computes the new state of an object from the live one (nil when
// it does not exist). It returns the object to store, or nil with a nil error
// to delete it. It runs outside the store's lock, may run more than once (see
// write) and must not block.
type mutateFunc func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error)

// writeResult says what a write did.
type writeResult struct {
	object  ctrlruntimeclient.Object // a copy of the stored object after the write
	changed bool                     // false for a no-op write
	deleted bool
}

// write reads, mutates and stores one object the way an apiserver's
// GuaranteedUpdate does: the mutation (field manager, strategy) runs on a
// copy of the live object without holding the lock, so reads and other
// writes go on meanwhile; the result is stored only if the object has not
// changed since it was read, otherwise the mutation runs again on the new
// state, where a client's stale resourceVersion precondition now fails with
// 409. A result equal to the live object is a no-op: nothing is stored, the
// resourceVersion stays and no watch event is sent, as on a real apiserver.
//
// onCommit runs when the write is stored, under the lock and before the watch
// event goes out, so that counters are never behind what a watcher sees.
func (s *store) write(gvk schema.GroupVersionKind, gr schema.GroupResource, key objectKey, mutate mutateFunc, onCommit ...commitFunc) (writeResult, error) {
	for {
		s.mu.Lock()
		var live ctrlruntimeclient.Object
		if obj, ok := s.objects[key]; ok {
			live = obj.DeepCopyObject().(ctrlruntimeclient.Object)
		}
		s.mu.Unlock()
		liveRV := resourceVersionOf(live)

		next, err := mutate(live)
		if err != nil {
			return writeResult{}, err
		}
		if next == nil && live == nil {
			return writeResult{}, apierrors.NewNotFound(gr, key.name)
		}
		if next != nil {
			truncateManagedFieldsTimes(next)
			stripTypeMeta(next)
		}
		if next != nil && live != nil {
			next.SetResourceVersion(live.GetResourceVersion())
			next.SetUID(live.GetUID())
			next.SetCreationTimestamp(live.GetCreationTimestamp())
			if semanticallyEqual(live, next) {
				return writeResult{object: live, changed: false}, nil
			}
		}

		s.mu.Lock()
		if resourceVersionOf(s.objects[key]) != liveRV {
			s.mu.Unlock()
			continue
		}
		res := s.commitLocked(gvk, key, live, next, onCommit)
		s.mu.Unlock()
		return res, nil
	}
}

func resourceVersionOf(obj ctrlruntimeclient.Object) string {
	if obj == nil {
		return ""
	}
	return obj.GetResourceVersion()
}

// commitFunc is told about a write that is being stored.
type commitFunc func(writeResult)

// commitLocked stores next in place of live (nil: delete) with a new
// resourceVersion, runs onCommit and emits the event. The caller holds the
// lock and has checked that live is still current.
func (s *store) commitLocked(gvk schema.GroupVersionKind, key objectKey, live, next ctrlruntimeclient.Object, onCommit []commitFunc) writeResult {
	s.rv++
	rv := strconv.FormatUint(s.rv, 10)
	var res writeResult
	var typ watch.EventType
	switch {
	case next == nil:
		live.SetResourceVersion(rv)
		delete(s.objects, key)
		res, typ = writeResult{object: live, changed: true, deleted: true}, watch.Deleted
	case live == nil:
		next.SetResourceVersion(rv)
		if next.GetUID() == "" {
			next.SetUID(uuid.NewUUID())
		}
		next.SetCreationTimestamp(metav1.NewTime(s.now().Truncate(time.Second)))
		s.objects[key] = next
		res, typ = writeResult{object: next.DeepCopyObject().(ctrlruntimeclient.Object), changed: true}, watch.Added
	default:
		next.SetResourceVersion(rv)
		s.objects[key] = next
		res, typ = writeResult{object: next.DeepCopyObject().(ctrlruntimeclient.Object), changed: true}, watch.Modified
	}
	for _, f := range onCommit {
		f(res)
	}
	if next == nil {
		s.emit(gvk, typ, live)
	} else {
		s.emit(gvk, typ, next)
	}
	return res
}

// semanticallyEqual compares two objects as an apiserver decides whether an
// update is a no-op. The field manager stamps a new time on managedFields only
// when a manager's fields change, so the times take part in the comparison.
func semanticallyEqual(a, b ctrlruntimeclient.Object) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}

// truncateManagedFieldsTimes drops the sub-second part of managedFields
// times, as storing an object does on a real apiserver (metav1.Time
// serializes whole seconds). Without it a write that round-trips the object
// through JSON, such as a patch, would look like a change.
func truncateManagedFieldsTimes(obj metav1.Object) {
	managed := obj.GetManagedFields()
	for i := range managed {
		if managed[i].Time != nil {
			managed[i].Time = &metav1.Time{Time: managed[i].Time.Truncate(time.Second)}
		}
	}
	obj.SetManagedFields(managed)
}

func stripTypeMeta(obj runtime.Object) {
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
}

// emit records an event and hands it to every matching watcher. The caller
// holds the lock.
func (s *store) emit(gvk schema.GroupVersionKind, typ watch.EventType, obj ctrlruntimeclient.Object) {
	ev := newEvent(gvk, typ, obj.DeepCopyObject().(ctrlruntimeclient.Object), s.rv)
	s.history = append(s.history, ev)
	if over := len(s.history) - s.capacity; over > 0 {
		s.oldest = s.history[over-1].rv + 1
		s.history = append([]event(nil), s.history[over:]...)
	}
	for w := range s.watchers {
		if w.kind == gvk && w.filter.matches(ev.object) {
			w.send(ev)
		}
	}
}

// compact drops the whole event history, as etcd compaction does: a watch
// from any resourceVersion before now gets 410 Gone.
func (s *store) compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = nil
	s.oldest = s.rv + 1
}

// closeWatches ends every open watch, as an apiserver restart or a load
// balancer timeout does; clients must watch again.
func (s *store) closeWatches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.watchers)
	for w := range s.watchers {
		w.close()
		delete(s.watchers, w)
	}
	return n
}

// watch starts a watch on one kind. With resourceVersion "" or "0" it first
// sends an ADDED event for every matching object (the state), then changes.
// With a resourceVersion it sends every change after it that the history
// holds, or 410 Gone when the history no longer reaches back that far.
//
// delivered, when not nil, is told about every event the consumer received.
func (s *store) watch(gvk schema.GroupVersionKind, f filter, resourceVersion string, delivered func(ev watch.Event, size int)) (watch.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := newWatcher(gvk, f, s, delivered)
	switch resourceVersion {
	case "", "0":
		keys := make([]objectKey, 0)
		for key, obj := range s.objects {
			if key.gvk == gvk && f.matches(obj) {
				keys = append(keys, key)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].namespace+"/"+keys[i].name < keys[j].namespace+"/"+keys[j].name })
		for _, key := range keys {
			w.send(newEvent(gvk, watch.Added, s.objects[key].DeepCopyObject().(ctrlruntimeclient.Object), 0))
		}
	default:
		from, err := strconv.ParseUint(resourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", resourceVersion))
		}
		if from+1 < s.oldest {
			return nil, apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", from, s.oldest-1))
		}
		for _, ev := range s.history {
			if ev.rv > from && ev.kind == gvk && f.matches(ev.object) {
				w.send(ev)
			}
		}
	}
	s.watchers[w] = struct{}{}
	return w, nil
}

func (s *store) removeWatcher(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

// filter selects objects as a list or watch request does.
type filter struct {
	namespace string
	labels    labels.Selector
	fields    fields.Selector
	fieldSet  func(ctrlruntimeclient.Object) fields.Set
}

func (f filter) matches(obj ctrlruntimeclient.Object) bool {
	if f.namespace != "" && obj.GetNamespace() != f.namespace {
		return false
	}
	if f.labels != nil && !f.labels.Matches(labels.Set(obj.GetLabels())) {
		return false
	}
	if f.fields != nil && !f.fields.Empty() {
		set := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
		if f.fieldSet != nil {
			for k, v := range f.fieldSet(obj) {
				set[k] = v
			}
		}
		if !f.fields.Matches(set) {
			return false
		}
	}
	return true
}

// watcher delivers events in order without ever blocking the store: events
// queue up and a goroutine hands them to the consumer.
type watcher struct {
	kind   schema.GroupVersionKind
	filter filter
	store  *store

	mu      sync.Mutex
	queue   []event
	wake    chan struct{}
	done    chan struct{}
	closed  bool
	results chan watch.Event

	delivered func(ev watch.Event, size int)
}

func newWatcher(gvk schema.GroupVersionKind, f filter, s *store, delivered func(ev watch.Event, size int)) *watcher {
	w := &watcher{
		kind:      gvk,
		filter:    f,
		store:     s,
		delivered: delivered,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		results:   make(chan watch.Event),
	}
	go w.pump()
	return w
}

func (w *watcher) send(ev event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	// The copy each consumer gets (what a client decodes for itself) is
	// made by the pump, outside the store's lock.
	w.queue = append(w.queue, ev)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) pump() {
	defer close(w.results)
	for {
		w.mu.Lock()
		pending := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, e := range pending {
			ev := watch.Event{Type: e.typ, Object: e.object.DeepCopyObject()}
			// Counted as it is handed over, so a consumer that has the event
			// finds it in the counters.
			if w.delivered != nil {
				w.delivered(ev, e.size.of(e.object))
			}
			select {
			case w.results <- ev:
			case <-w.done:
				return
			}
		}
		select {
		case <-w.wake:
		case <-w.done:
			return
		}
	}
}

func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.done)
	}
}

// Stop implements watch.Interface.
func (w *watcher) Stop() {
	w.store.removeWatcher(w)
	w.close()
}

// ResultChan implements watch.Interface.
func (w *watcher) ResultChan() <-chan watch.Event {
	return w.results
}

// checkPreconditions applies a client's resourceVersion and UID preconditions.
func checkPreconditions(gr schema.GroupResource, name string, live metav1.Object, rv string, uid types.UID) error {
	if uid != "" && live.GetUID() != uid {
		return apierrors.NewConflict(gr, name, fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, live.GetUID())) //nolint:staticcheck // the apiserver's message
	}
	if rv != "" && live.GetResourceVersion() != rv {
		return apierrors.NewConflict(gr, name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	return nil
}
