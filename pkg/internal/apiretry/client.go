package apiretry

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// NewClient returns c with every request retried by one policy: Do with
// backoff (DefaultBackoff when backoff.Steps is 0) on every error
// IsRetriable reports, bounded by the request's context. That covers reads,
// writes, subresource requests and the establishment of a watch (not the
// end of an established one: a watcher re-lists for that).
//
// A write is retried with what the caller asked for, not with what a failed
// attempt may have left in the object. A write that landed although its
// answer was lost is repeated; callers already handle what the repeat gets
// (an identical apply is a no-op, a create gets AlreadyExists, a
// conditional write a conflict, a delete NotFound). Conflicts are not
// retried: they carry meaning for the caller.
//
// A client NewClient returned, or one that says it sends every request
// through such a client (Retrying), is returned as it is, so two layers
// never multiply each other's attempts.
func NewClient(c ctrlruntimeclient.WithWatch, backoff wait.Backoff) ctrlruntimeclient.WithWatch {
	if _, ok := c.(Retrying); ok || c == nil {
		return c
	}
	if backoff.Steps == 0 {
		backoff = DefaultBackoff
	}
	return &retryingClient{WithWatch: c, backoff: backoff}
}

// Retrying is implemented by clients whose requests all go through a client
// NewClient returned (a decorator over one, such as a cache in front of it):
// NewClient does not wrap them again.
type Retrying interface {
	RetriesTransientErrors()
}

type retryingClient struct {
	ctrlruntimeclient.WithWatch
	backoff wait.Backoff
}

// RetriesTransientErrors marks the client as Retrying.
func (c *retryingClient) RetriesTransientErrors() {}

func (c *retryingClient) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	return Do(ctx, c.backoff, func() error { return c.WithWatch.Get(ctx, key, obj, opts...) })
}

func (c *retryingClient) List(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
	return Do(ctx, c.backoff, func() error { return c.WithWatch.List(ctx, list, opts...) })
}

func (c *retryingClient) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	var w watch.Interface
	err := Do(ctx, c.backoff, func() error {
		var err error
		w, err = c.WithWatch.Watch(ctx, list, opts...)
		return err
	})
	return w, err
}

func (c *retryingClient) Create(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.WithWatch.Create(ctx, obj, opts...) })
}

func (c *retryingClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.WithWatch.Update(ctx, obj, opts...) })
}

func (c *retryingClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.WithWatch.Patch(ctx, obj, patch, opts...) })
}

func (c *retryingClient) Delete(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.WithWatch.Delete(ctx, obj, opts...) })
}

func (c *retryingClient) DeleteAllOf(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteAllOfOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.WithWatch.DeleteAllOf(ctx, obj, opts...) })
}

// Apply resends the caller's apply configuration on every attempt: a client
// decodes the server's answer into it, and an answer sent back would claim
// every field of the object for the field manager.
func (c *retryingClient) Apply(ctx context.Context, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
	intent, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("could not encode the apply configuration: %w", err)
	}
	first := true
	return Do(ctx, c.backoff, func() error {
		if !first {
			if err := restoreJSON(ac, intent); err != nil {
				return err
			}
		}
		first = false
		return c.WithWatch.Apply(ctx, ac, opts...)
	})
}

func (c *retryingClient) Status() ctrlruntimeclient.SubResourceWriter { return c.SubResource("status") }

func (c *retryingClient) SubResource(subResource string) ctrlruntimeclient.SubResourceClient {
	return &retryingSubResourceClient{SubResourceClient: c.WithWatch.SubResource(subResource), backoff: c.backoff}
}

type retryingSubResourceClient struct {
	ctrlruntimeclient.SubResourceClient
	backoff wait.Backoff
}

func (c *retryingSubResourceClient) Get(ctx context.Context, obj, sub ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceGetOption) error {
	return Do(ctx, c.backoff, func() error { return c.SubResourceClient.Get(ctx, obj, sub, opts...) })
}

func (c *retryingSubResourceClient) Create(ctx context.Context, obj, sub ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceCreateOption) error {
	return doWrite(ctx, c.backoff, sub, func() error { return c.SubResourceClient.Create(ctx, obj, sub, opts...) })
}

func (c *retryingSubResourceClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceUpdateOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.SubResourceClient.Update(ctx, obj, opts...) })
}

func (c *retryingSubResourceClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.SubResourcePatchOption) error {
	return doWrite(ctx, c.backoff, obj, func() error { return c.SubResourceClient.Patch(ctx, obj, patch, opts...) })
}

// doWrite is Do for a request that sends obj and decodes the answer into
// it: every attempt after the first sends a copy of obj as the caller
// passed it.
func doWrite(ctx context.Context, backoff wait.Backoff, obj ctrlruntimeclient.Object, fn func() error) error {
	intent := obj.DeepCopyObject()
	first := true
	return Do(ctx, backoff, func() error {
		if !first {
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(intent.DeepCopyObject()).Elem())
		}
		first = false
		return fn()
	})
}

// restoreJSON resets the value ac points to and decodes intent into it.
func restoreJSON(ac runtime.ApplyConfiguration, intent []byte) error {
	v := reflect.ValueOf(ac)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("cannot retry an apply of a %T: not a pointer", ac)
	}
	v.Elem().Set(reflect.Zero(v.Elem().Type()))
	if err := json.Unmarshal(intent, ac); err != nil {
		return fmt.Errorf("could not restore the apply configuration: %w", err)
	}
	return nil
}
