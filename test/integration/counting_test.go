//go:build integration

package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// call is one request a process sent through a countingClient: what it asked,
// of which kind and object, under which field manager (writes only), and how
// the server answered.
type call struct {
	process, verb, kind, name, manager, outcome string
}

// counts records the calls of every process of one run. The real apiserver
// keeps no such accounting, so the processes' clients do it.
type counts struct {
	mu    sync.Mutex
	calls map[call]int
}

func newCounts() *counts { return &counts{calls: map[call]int{}} }

func (c *counts) record(cl call, err error) {
	switch {
	case err == nil:
		cl.outcome = "ok"
	case apierrors.IsConflict(err):
		cl.outcome = "conflict"
	case apierrors.IsAlreadyExists(err):
		cl.outcome = "already-exists"
	case apierrors.IsNotFound(err):
		cl.outcome = "not-found"
	default:
		cl.outcome = "error"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[cl]++
}

// sum adds the calls that keep selects.
func (c *counts) sum(keep func(call) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for cl, v := range c.calls {
		if keep(cl) {
			n += v
		}
	}
	return n
}

// created returns, per object name of kind, how many creates succeeded.
func (c *counts) created(kind string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for cl, v := range c.calls {
		if cl.verb == "create" && cl.kind == kind && cl.outcome == "ok" {
			out[cl.name] += v
		}
	}
	return out
}

// report lists the mutating calls, for a failure message.
func (c *counts) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lines []string
	for cl, v := range c.calls {
		if isMutating(cl) {
			lines = append(lines, fmt.Sprintf("%4d %s %s %s/%s manager=%s %s", v, cl.process, cl.verb, cl.kind, cl.name, cl.manager, cl.outcome))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func isMutating(cl call) bool {
	switch cl.verb {
	case "get", "list", "watch":
		return false
	}
	return true
}

// countingClient counts every request of one process into counts.
type countingClient struct {
	ctrlruntimeclient.WithWatch
	process string
	counts  *counts
}

func (c *countingClient) kindOf(obj runtime.Object) string {
	if ac, ok := obj.(interface{ GetKind() *string }); ok && ac.GetKind() != nil {
		return *ac.GetKind()
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return strings.TrimSuffix(gvk.Kind, "List")
}

func (c *countingClient) manager(requested string) string {
	if requested == "" {
		return c.process
	}
	return requested
}

func (c *countingClient) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	err := c.WithWatch.Get(ctx, key, obj, opts...)
	c.counts.record(call{process: c.process, verb: "get", kind: c.kindOf(obj), name: key.Name}, err)
	return err
}

func (c *countingClient) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
	err := c.WithWatch.List(ctx, list, opts...)
	c.counts.record(call{process: c.process, verb: "list", kind: c.kindOf(list)}, err)
	return err
}

func (c *countingClient) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	o := (&ctrlruntimeclient.CreateOptions{}).ApplyOptions(opts)
	err := c.WithWatch.Create(ctx, obj, opts...)
	c.counts.record(call{process: c.process, verb: "create", kind: c.kindOf(obj), name: obj.GetName(), manager: c.manager(o.FieldManager)}, err)
	return err
}

func (c *countingClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	o := (&ctrlruntimeclient.UpdateOptions{}).ApplyOptions(opts)
	err := c.WithWatch.Update(ctx, obj, opts...)
	c.counts.record(call{process: c.process, verb: "update", kind: c.kindOf(obj), name: obj.GetName(), manager: c.manager(o.FieldManager)}, err)
	return err
}

func (c *countingClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	o := (&ctrlruntimeclient.PatchOptions{}).ApplyOptions(opts)
	verb := "patch"
	if patch.Type() == types.ApplyPatchType {
		verb = "apply"
	}
	kind := c.kindOf(obj)
	err := c.WithWatch.Patch(ctx, obj, patch, opts...)
	c.counts.record(call{process: c.process, verb: verb, kind: kind, name: obj.GetName(), manager: c.manager(o.FieldManager)}, err)
	return err
}

func (c *countingClient) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	o := (&ctrlruntimeclient.ApplyOptions{}).ApplyOptions(opts)
	name := ""
	if named, ok := ac.(interface{ GetName() *string }); ok && named.GetName() != nil {
		name = *named.GetName()
	}
	kind := "unknown"
	if kinded, ok := ac.(interface{ GetKind() *string }); ok && kinded.GetKind() != nil {
		kind = *kinded.GetKind()
	}
	err := c.WithWatch.Apply(ctx, ac, opts...)
	c.counts.record(call{process: c.process, verb: "apply", kind: kind, name: name, manager: c.manager(o.FieldManager)}, err)
	return err
}

func (c *countingClient) Delete(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
	err := c.WithWatch.Delete(ctx, obj, opts...)
	c.counts.record(call{process: c.process, verb: "delete", kind: c.kindOf(obj), name: obj.GetName()}, err)
	return err
}

func (c *countingClient) Status() ctrlruntimeclient.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.WithWatch.Status(), client: c}
}

// countingStatus counts writes through the status subresource.
type countingStatus struct {
	ctrlruntimeclient.SubResourceWriter
	client *countingClient
}

func (s *countingStatus) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceUpdateOption) error {
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	s.client.counts.record(call{process: s.client.process, verb: "update-status", kind: s.client.kindOf(obj), name: obj.GetName(), manager: s.client.process}, err)
	return err
}

func (s *countingStatus) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.SubResourcePatchOption) error {
	err := s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	s.client.counts.record(call{process: s.client.process, verb: "patch-status", kind: s.client.kindOf(obj), name: obj.GetName(), manager: s.client.process}, err)
	return err
}
