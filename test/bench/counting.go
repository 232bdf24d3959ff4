package bench

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Op is one kind of request a process makes, as the profile breaks them
// down: the verb, the kind and, for writes, the field manager.
type Op struct {
	Verb, Kind, Manager string
}

func (o Op) String() string {
	if o.Manager == "" {
		return o.Verb + " " + o.Kind
	}
	return o.Verb + " " + o.Kind + " (" + o.Manager + ")"
}

// Traffic is what one kind of request cost: how many were sent, the bytes of
// their bodies, of the answers and, for watches, of the events delivered.
type Traffic struct {
	Requests    int
	SentBytes   int64
	AnswerBytes int64
	WatchEvents int
	WatchBytes  int64
}

// Bytes is every byte the request kind moved.
func (t Traffic) Bytes() int64 { return t.SentBytes + t.AnswerBytes + t.WatchBytes }

func (t *Traffic) add(o Traffic) {
	t.Requests += o.Requests
	t.SentBytes += o.SentBytes
	t.AnswerBytes += o.AnswerBytes
	t.WatchEvents += o.WatchEvents
	t.WatchBytes += o.WatchBytes
}

// Profile is the traffic of every process, per kind of request, measured on
// the client side: it also counts the answers of reads, which is where a
// process that reads a stream of thousands of tags spends its bytes.
type Profile struct {
	mu      sync.Mutex
	traffic map[string]map[Op]*Traffic // process -> op -> traffic
	sizes   sync.Map                   // "uid/resourceVersion" -> JSON size
}

func newProfile() *Profile {
	return &Profile{traffic: map[string]map[Op]*Traffic{}}
}

func (p *Profile) add(process string, op Op, t Traffic) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ops := p.traffic[process]
	if ops == nil {
		ops = map[Op]*Traffic{}
		p.traffic[process] = ops
	}
	if ops[op] == nil {
		ops[op] = &Traffic{}
	}
	ops[op].add(t)
}

// Processes returns the processes that made requests, sorted.
func (p *Profile) Processes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.traffic))
	for process := range p.traffic {
		out = append(out, process)
	}
	sort.Strings(out)
	return out
}

// Of returns the traffic of process per kind of request.
func (p *Profile) Of(process string) map[Op]Traffic {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[Op]Traffic{}
	for op, t := range p.traffic[process] {
		out[op] = *t
	}
	return out
}

// Total sums the traffic of process over every kind of request.
func (p *Profile) Total(process string) Traffic {
	var total Traffic
	for _, t := range p.Of(process) {
		total.add(t)
	}
	return total
}

// countingClient records the traffic of one process. It sizes objects as
// JSON, as they travel to and from an apiserver.
type countingClient struct {
	ctrlruntimeclient.WithWatch
	process string
	profile *Profile
}

func (c *countingClient) kind(obj runtime.Object) string {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.GetKind()
	}
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSuffix(gvk.Kind, "List")
}

func (c *countingClient) record(op Op, t Traffic) {
	t.Requests = 1
	c.profile.add(c.process, op, t)
}

func (c *countingClient) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	err := c.WithWatch.Get(ctx, key, obj, opts...)
	c.record(Op{Verb: "get", Kind: c.kind(obj)}, Traffic{AnswerBytes: answerSize(obj, err)})
	return err
}

func (c *countingClient) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
	err := c.WithWatch.List(ctx, list, opts...)
	c.record(Op{Verb: "list", Kind: c.kind(list)}, Traffic{AnswerBytes: answerSize(list, err)})
	return err
}

func (c *countingClient) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	sent := size(obj)
	err := c.WithWatch.Create(ctx, obj, opts...)
	c.record(Op{Verb: "create", Kind: c.kind(obj)}, Traffic{SentBytes: sent, AnswerBytes: answerSize(obj, err)})
	return err
}

func (c *countingClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	o := &ctrlruntimeclient.UpdateOptions{}
	o.ApplyOptions(opts)
	sent := size(obj)
	err := c.WithWatch.Update(ctx, obj, opts...)
	c.record(Op{Verb: "update", Kind: c.kind(obj), Manager: o.FieldManager}, Traffic{SentBytes: sent, AnswerBytes: answerSize(obj, err)})
	return err
}

func (c *countingClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	o := &ctrlruntimeclient.PatchOptions{}
	o.ApplyOptions(opts)
	var sent int64
	if data, err := patch.Data(obj); err == nil {
		sent = int64(len(data))
	}
	err := c.WithWatch.Patch(ctx, obj, patch, opts...)
	c.record(Op{Verb: "patch", Kind: c.kind(obj), Manager: o.FieldManager}, Traffic{SentBytes: sent, AnswerBytes: answerSize(obj, err)})
	return err
}

func (c *countingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	o := &ctrlruntimeclient.ApplyOptions{}
	o.ApplyOptions(opts)
	kind := "unknown"
	if k, ok := obj.(interface{ GetKind() *string }); ok && k.GetKind() != nil {
		kind = *k.GetKind()
	}
	sent := size(obj)
	err := c.WithWatch.Apply(ctx, obj, opts...)
	c.record(Op{Verb: "apply", Kind: kind, Manager: o.FieldManager}, Traffic{SentBytes: sent, AnswerBytes: answerSize(obj, err)})
	return err
}

func (c *countingClient) Delete(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
	err := c.WithWatch.Delete(ctx, obj, opts...)
	c.record(Op{Verb: "delete", Kind: c.kind(obj)}, Traffic{})
	return err
}

func (c *countingClient) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	op := Op{Verb: "watch", Kind: c.kind(list)}
	w, err := c.WithWatch.Watch(ctx, list, opts...)
	c.record(op, Traffic{})
	if err != nil {
		return w, err
	}
	return newCountingWatch(w, func(obj runtime.Object) {
		c.profile.add(c.process, op, Traffic{WatchEvents: 1, WatchBytes: c.profile.eventSize(obj)})
	}), nil
}

// eventSize sizes a watch event's object once per version: every process
// watching the object receives the same one, and sizing a stream of
// thousands of tags for each would make the measurement cost more than
// what it measures.
func (p *Profile) eventSize(obj runtime.Object) int64 {
	o, ok := obj.(metav1.Object)
	if !ok || o.GetUID() == "" || o.GetResourceVersion() == "" {
		return size(obj)
	}
	key := string(o.GetUID()) + "/" + o.GetResourceVersion()
	if n, ok := p.sizes.Load(key); ok {
		return n.(int64)
	}
	n := size(obj)
	p.sizes.Store(key, n)
	return n
}

// countingWatch passes a watch's events on, sizing each.
type countingWatch struct {
	inner watch.Interface
	out   chan watch.Event
	stop  chan struct{}
	once  sync.Once
}

func newCountingWatch(inner watch.Interface, count func(runtime.Object)) *countingWatch {
	w := &countingWatch{inner: inner, out: make(chan watch.Event), stop: make(chan struct{})}
	go func() {
		defer close(w.out)
		for ev := range inner.ResultChan() {
			count(ev.Object)
			select {
			case w.out <- ev:
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

func (w *countingWatch) Stop() {
	w.once.Do(func() { close(w.stop) })
	w.inner.Stop()
}

func (w *countingWatch) ResultChan() <-chan watch.Event { return w.out }

func size(v any) int64 {
	data, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return int64(len(data))
}

// answerSize is the size of what the server sent back: the object, or a
// Status of a few hundred bytes for an error.
func answerSize(obj any, err error) int64 {
	if err != nil {
		return statusBytes
	}
	return size(obj)
}

// statusBytes is about the size of a metav1.Status error answer.
const statusBytes = 300
