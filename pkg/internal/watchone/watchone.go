// Package watchone is the one way the module waits for one object: a
// list+watch narrowed to the object's name (toolswatch.UntilWithSync, which
// re-lists when the watch's resource version is too old), judged on every
// event, with one stall rule: a wait that sees no progress for the stall
// window fails with a *StalledError.
//
//	last, err := watchone.Until(ctx, watchone.Target{Client: c, Key: key, List: &corev1.PodList{}, Object: &corev1.Pod{}},
//		time.Minute, func(ev watch.Event) (progress, done bool, err error) { ... })
//
// Limits: the condition sees the events of one object only; whether an
// event is progress is the caller's judgement.
package watchone

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Target names the object to watch.
type Target struct {
	Client ctrlruntimeclient.WithWatch
	Key    types.NamespacedName
	// List is an empty list of the object's kind (&corev1.PodList{}) and
	// Object an empty object of it (&corev1.Pod{}).
	List   ctrlruntimeclient.ObjectList
	Object runtime.Object
}

// Absent is the type of the event a condition sees when the first listing
// does not hold the object; its object is empty.
const Absent watch.EventType = "ABSENT"

// Condition judges one event: progress resets the stall window, done ends
// the wait, an error ends it with that error.
type Condition func(ev watch.Event) (progress, done bool, err error)

// StalledError says that a wait saw no progress for its stall window.
type StalledError struct {
	Key     types.NamespacedName
	Kind    string
	Timeout time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("%s %s made no progress for %s", e.Kind, e.Key, e.Timeout)
}

// Until lists and watches the target until cond says done and returns the
// last event cond saw. When the first listing does not hold the object,
// cond sees an Absent event first. A stall of 0 means
// no stall rule. When ctx ends, the error wraps ctx.Err().
func Until(ctx context.Context, target Target, stall time.Duration, cond Condition) (watch.Event, error) {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	kick := watchdog(waitCtx, cancel, stall)
	var last watch.Event
	judge := func(ev watch.Event) (bool, error) {
		// A server that ignores field selectors in watches (as
		// controller-runtime's fake does) sends other objects too.
		if o, err := meta.Accessor(ev.Object); err == nil && ev.Type != Absent && o.GetName() != target.Key.Name {
			return false, nil
		}
		last = ev
		progress, done, err := cond(ev)
		if progress {
			kick()
		}
		return done, err
	}
	precondition := func(store cache.Store) (bool, error) {
		if _, exists, err := store.GetByKey(target.Key.String()); err != nil || exists {
			return false, err
		}
		return judge(watch.Event{Type: Absent, Object: target.Object.DeepCopyObject()})
	}
	_, err := toolswatch.UntilWithSync(waitCtx, listWatch(target), target.Object, precondition, judge)
	switch {
	case err == nil:
		return last, nil
	case ctx.Err() != nil:
		return last, fmt.Errorf("stopped watching %s: %w", target.Key, ctx.Err())
	case waitCtx.Err() != nil:
		return last, &StalledError{Key: target.Key, Kind: kindOf(target.Object), Timeout: stall}
	}
	return last, err
}

// watchdog cancels the wait when kick is not called for stall.
func watchdog(ctx context.Context, cancel context.CancelFunc, stall time.Duration) (kick func()) {
	if stall <= 0 {
		return func() {}
	}
	progressed := make(chan struct{}, 1)
	go func() {
		timer := time.NewTimer(stall)
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-progressed:
				timer.Reset(stall)
			case <-timer.C:
				cancel()
				return
			}
		}
	}()
	return func() {
		select {
		case progressed <- struct{}{}:
		default:
		}
	}
}

func listWatch(target Target) *cache.ListWatch {
	selector := fields.OneTermEqualSelector("metadata.name", target.Key.Name)
	opts := func(raw *metav1.ListOptions) []ctrlruntimeclient.ListOption {
		return []ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(target.Key.Namespace),
			ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: raw}}
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			list := target.List.DeepCopyObject().(ctrlruntimeclient.ObjectList)
			return list, target.Client.List(ctx, list, opts(&options)...)
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			return target.Client.Watch(ctx, target.List.DeepCopyObject().(ctrlruntimeclient.ObjectList), opts(&options)...)
		},
	}
}

func kindOf(obj runtime.Object) string {
	if kind := obj.GetObjectKind().GroupVersionKind().Kind; kind != "" {
		return kind
	}
	return reflect.Indirect(reflect.ValueOf(obj)).Type().Name()
}
