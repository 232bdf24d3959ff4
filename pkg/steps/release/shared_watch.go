package release

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// sharedClient gives a run one watch per object it waits on. The release
// stream, the stable stream and the payload record are each read and waited
// on several times in a run (the CLI stage, the merge, the wait for the
// images, the final check, the record's renewals); a run that listed and
// watched each anew would cost the apiserver a listing of the whole stable
// stream per wait. While a run is on (begin), the objects it tracks are
// listed and watched once, when first asked for; every Get of one is
// answered from the latest state that watch brought, and every List and
// Watch of it narrowed to its name (the waits' list+watch) from the same
// state and its changes. Writes go to the server; what a Create or Update of
// a tracked object returns is the latest state at once, so a run reads its
// own writes. Everything else passes through.
//
// A watcher of a shared watch is level-based, as the step's waits are: when
// it falls behind it gets the latest state, not every state in between.
type sharedClient struct {
	ctrlruntimeclient.WithWatch

	mu      sync.Mutex
	session *watchSession
}

// RetriesTransientErrors marks the client as apiretry.Retrying: what it
// does not answer from a watch goes to WithWatch, the step's apiretry
// client, so the waits and pods.Run do not wrap it again.
func (c *sharedClient) RetriesTransientErrors() {}

// watchKey names one tracked object.
type watchKey struct {
	kind string // "ImageStream" or "Lease"
	types.NamespacedName
}

type watchSession struct {
	ctx     context.Context
	cancel  context.CancelFunc
	users   int
	tracked map[watchKey]bool
	watches map[watchKey]*sharedWatch
	running sync.WaitGroup
}

// begin starts sharing the watches of keys until the returned function is
// called; nested calls share one session, which ends with the last.
func (c *sharedClient) begin(ctx context.Context, keys ...watchKey) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		sctx, cancel := context.WithCancel(ctx)
		c.session = &watchSession{ctx: sctx, cancel: cancel, tracked: map[watchKey]bool{}, watches: map[watchKey]*sharedWatch{}}
	}
	s := c.session
	s.users++
	for _, k := range keys {
		s.tracked[k] = true
	}
	return func() {
		c.mu.Lock()
		s.users--
		last := s.users == 0
		if last && c.session == s {
			c.session = nil
		}
		c.mu.Unlock()
		if last {
			s.cancel()
			s.running.Wait()
		}
	}
}

// shared returns the shared watch of key, started and synced, or nil when
// key is not tracked (or the session is ending).
func (c *sharedClient) shared(ctx context.Context, key watchKey) (*sharedWatch, error) {
	c.mu.Lock()
	s := c.session
	if s == nil || !s.tracked[key] || s.ctx.Err() != nil {
		c.mu.Unlock()
		return nil, nil //nolint:nilerr // the session's end is no error: the caller reads from the server
	}
	w := s.watches[key]
	if w == nil || w.failed() {
		w = newSharedWatch(key)
		s.watches[key] = w
		s.running.Add(1)
		go func() { defer s.running.Done(); w.run(s.ctx, c.WithWatch) }()
	}
	c.mu.Unlock()
	select {
	case <-w.synced:
		// Synced: answer from it even when ctx has ended meanwhile.
		return w, w.err
	default:
	}
	select {
	case <-w.synced:
		return w, w.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, nil
	}
}

func keyOf(obj runtime.Object, key types.NamespacedName) (watchKey, bool) {
	switch obj.(type) {
	case *imagev1.ImageStream, *imagev1.ImageStreamList:
		return watchKey{kind: "ImageStream", NamespacedName: key}, true
	case *coordinationv1.Lease, *coordinationv1.LeaseList:
		return watchKey{kind: "Lease", NamespacedName: key}, true
	}
	return watchKey{}, false
}

// narrowed returns the key of a List or Watch narrowed to one name by a
// metadata.name field selector.
func narrowed(list ctrlruntimeclient.ObjectList, opts []ctrlruntimeclient.ListOption) (watchKey, *metav1.ListOptions, bool) {
	lo := &ctrlruntimeclient.ListOptions{}
	lo.ApplyOptions(opts)
	if lo.FieldSelector == nil || lo.LabelSelector != nil {
		return watchKey{}, nil, false
	}
	name, ok := lo.FieldSelector.RequiresExactMatch("metadata.name")
	if !ok {
		return watchKey{}, nil, false
	}
	key, ok := keyOf(list, types.NamespacedName{Namespace: lo.Namespace, Name: name})
	raw := lo.Raw
	if raw == nil {
		raw = &metav1.ListOptions{}
	}
	return key, raw, ok && raw.SendInitialEvents == nil
}

func (c *sharedClient) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	if k, ok := keyOf(obj, key); ok {
		w, err := c.shared(ctx, k)
		if err != nil {
			return err
		}
		if w != nil {
			return w.get(obj)
		}
	}
	return c.WithWatch.Get(ctx, key, obj, opts...)
}

func (c *sharedClient) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
	if k, _, ok := narrowed(list, opts); ok {
		w, err := c.shared(ctx, k)
		if err != nil {
			return err
		}
		if w != nil {
			return w.list(list)
		}
	}
	return c.WithWatch.List(ctx, list, opts...)
}

func (c *sharedClient) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	if k, raw, ok := narrowed(list, opts); ok {
		w, err := c.shared(ctx, k)
		if err != nil {
			return nil, err
		}
		if w != nil {
			return w.subscribe(ctx, raw.ResourceVersion), nil
		}
	}
	return c.WithWatch.Watch(ctx, list, opts...)
}

func (c *sharedClient) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	if err := c.WithWatch.Create(ctx, obj, opts...); err != nil {
		return err
	}
	c.written(obj)
	return nil
}

func (c *sharedClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	if err := c.WithWatch.Update(ctx, obj, opts...); err != nil {
		return err
	}
	c.written(obj)
	return nil
}

func (c *sharedClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	if err := c.WithWatch.Patch(ctx, obj, patch, opts...); err != nil {
		return err
	}
	c.written(obj)
	return nil
}

// Apply makes the stream the server answered the latest state: a wait that
// follows an apply must judge the stream as the apply left it, not an
// older state of the same tag (another payload's, imported long ago).
func (c *sharedClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	if err := c.WithWatch.Apply(ctx, obj, opts...); err != nil {
		return err
	}
	if ac, ok := obj.(*imagev1apply.ImageStreamApplyConfiguration); ok {
		is := &imagev1.ImageStream{}
		if data, err := json.Marshal(ac); err == nil && json.Unmarshal(data, is) == nil && is.ResourceVersion != "" {
			c.written(is)
		}
	}
	return nil
}

// written makes what the server answered a write of a tracked object its
// latest state, when the object's watch is running.
func (c *sharedClient) written(obj ctrlruntimeclient.Object) {
	k, ok := keyOf(obj, ctrlruntimeclient.ObjectKeyFromObject(obj))
	if !ok {
		return
	}
	c.mu.Lock()
	var w *sharedWatch
	if c.session != nil {
		w = c.session.watches[k]
	}
	c.mu.Unlock()
	if w != nil {
		select {
		case <-w.synced:
			w.offer(obj.DeepCopyObject().(ctrlruntimeclient.Object), true, false)
		default:
		}
	}
}

// sharedWatch is the latest state of one object, kept by one list+watch.
type sharedWatch struct {
	key    watchKey
	synced chan struct{}
	once   sync.Once
	err    error // of the first listing; set before synced closes

	mu      sync.Mutex
	obj     ctrlruntimeclient.Object // the latest state, or the last before a delete
	exists  bool
	version string
	subs    map[*subscriber]struct{}
}

func newSharedWatch(key watchKey) *sharedWatch {
	return &sharedWatch{key: key, synced: make(chan struct{}), subs: map[*subscriber]struct{}{}}
}

// run lists the object, then watches it from there; a watch that ends is
// started again from the last version seen, a watch that cannot go on (its
// version expired) lists again.
func (w *sharedWatch) run(ctx context.Context, client ctrlruntimeclient.WithWatch) {
	defer w.endSubscribers()
	backoff := sharedWatchBackoff
	rv, err := w.relist(ctx, client)
	if err != nil {
		// The first listing failed (after the client's retries): the
		// callers get the error, and the next one starts a new watch.
		w.err = err
		w.once.Do(func() { close(w.synced) })
		return
	}
	for ctx.Err() == nil {
		for err == nil && ctx.Err() == nil {
			rv, err = w.follow(ctx, client, rv)
		}
		if ctx.Err() == nil && !errors.Is(err, errExpired) {
			_ = apiretry.Sleep(ctx, backoff.Step())
		}
		if ctx.Err() != nil {
			return
		}
		rv, err = w.relist(ctx, client)
	}
}

func (w *sharedWatch) failed() bool {
	select {
	case <-w.synced:
		return w.err != nil
	default:
		return false
	}
}

var sharedWatchBackoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 8, Cap: time.Second}

var errExpired = errors.New("the watch's resource version expired")

func (w *sharedWatch) listOptions(rv string) []ctrlruntimeclient.ListOption {
	return []ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(w.key.Namespace),
		ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", w.key.Name)},
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}}}
}

func (w *sharedWatch) newList() ctrlruntimeclient.ObjectList {
	if w.key.kind == "Lease" {
		return &coordinationv1.LeaseList{}
	}
	return &imagev1.ImageStreamList{}
}

// relist reads the object and makes what it found the latest state.
func (w *sharedWatch) relist(ctx context.Context, client ctrlruntimeclient.WithWatch) (string, error) {
	list := w.newList()
	if err := client.List(ctx, list, w.listOptions("")...); err != nil {
		return "", err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", err
	}
	rv := list.GetResourceVersion()
	found := false
	for _, item := range items {
		if obj, ok := item.(ctrlruntimeclient.Object); ok && obj.GetName() == w.key.Name {
			w.offer(obj, true, true)
			found = true
		}
	}
	w.mu.Lock()
	if !found {
		w.exists, w.version = false, rv
		w.kickAll()
	}
	w.mu.Unlock()
	w.once.Do(func() { close(w.synced) })
	return rv, nil
}

// follow watches the object from rv until the watch ends, and returns the
// last version seen.
func (w *sharedWatch) follow(ctx context.Context, client ctrlruntimeclient.WithWatch, rv string) (string, error) {
	wi, err := client.Watch(ctx, w.newList(), w.listOptions(rv)...)
	if err != nil {
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return rv, errExpired
		}
		return rv, err
	}
	defer wi.Stop()
	for ev := range wi.ResultChan() {
		obj, ok := ev.Object.(ctrlruntimeclient.Object)
		switch {
		case ev.Type == watch.Error:
			return rv, errExpired
		case !ok:
			continue
		case ev.Type == watch.Bookmark:
			rv = obj.GetResourceVersion()
			continue
		case obj.GetName() != w.key.Name:
			continue
		}
		rv = obj.GetResourceVersion()
		w.offer(obj, ev.Type != watch.Deleted, false)
	}
	return rv, nil
}

func (w *sharedWatch) endSubscribers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for sub := range w.subs {
		sub.end()
	}
}

// offer makes obj the latest state unless the state held is newer, or as
// new when it is the same object again (a listing is the truth: it replaces
// a state of the same version).
func (w *sharedWatch) offer(obj ctrlruntimeclient.Object, exists, listed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.obj != nil && olderThan(obj.GetResourceVersion(), w.obj.GetResourceVersion(), !listed && (exists || !w.exists)) {
		return
	}
	w.obj, w.exists, w.version = obj, exists, obj.GetResourceVersion()
	w.kickAll()
}

func (w *sharedWatch) kickAll() {
	for sub := range w.subs {
		sub.kick()
	}
}

// olderThan compares resourceVersions as the apiserver's etcd revisions;
// one that does not parse is never older. With orEqual an equal one counts
// as older (the same state again).
func olderThan(rv, than string, orEqual bool) bool {
	a, errA := strconv.ParseUint(rv, 10, 64)
	b, errB := strconv.ParseUint(than, 10, 64)
	if errA != nil || errB != nil {
		return false
	}
	return a < b || (orEqual && a == b)
}

func (w *sharedWatch) notFound() error {
	gr := imagev1.Resource("imagestreams")
	if w.key.kind == "Lease" {
		gr = schema.GroupResource{Group: coordinationv1.GroupName, Resource: "leases"}
	}
	return apierrors.NewNotFound(gr, w.key.Name)
}

func (w *sharedWatch) get(into ctrlruntimeclient.Object) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.exists {
		return w.notFound()
	}
	reflect.ValueOf(into).Elem().Set(reflect.ValueOf(w.obj.DeepCopyObject()).Elem())
	return nil
}

func (w *sharedWatch) list(into ctrlruntimeclient.ObjectList) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	into.SetResourceVersion(w.version)
	switch l := into.(type) {
	case *imagev1.ImageStreamList:
		l.Items = nil
		if w.exists {
			l.Items = []imagev1.ImageStream{*w.obj.(*imagev1.ImageStream).DeepCopy()}
		}
	case *coordinationv1.LeaseList:
		l.Items = nil
		if w.exists {
			l.Items = []coordinationv1.Lease{*w.obj.(*coordinationv1.Lease).DeepCopy()}
		}
	}
	return nil
}
