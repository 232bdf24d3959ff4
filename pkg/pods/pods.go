// Package pods runs a pod that any number of processes may ask for at once:
// the pod is created by whichever process gets there first and adopted by
// the others, waited for by watch, and replaced (by exactly one process)
// when it fails.
//
//	pod, err := pods.Run(ctx, client, desired, pods.WithMaxFailures(2))
//
// The pod's name must identify its work (callers put a hash of the inputs in
// it): a pod of that name that exists is taken to be doing the same work. A
// cancelled caller deletes nothing, since other processes may be watching
// the pod.
package pods

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// Event tells an observer what happened to the pod.
type Event struct {
	Pod *corev1.Pod
	// Created is true when this process created the pod, false when it
	// adopted one.
	Created bool
	// Phase is the pod's phase as last seen.
	Phase corev1.PodPhase
	// Replaced is set when a Failed pod was deleted to run it again.
	Replaced bool
}

type options struct {
	maxFailures  int
	stall        time.Duration
	observe      func(Event)
	beforeCreate func(context.Context) error
}

// Option configures Run.
type Option func(*options)

// WithMaxFailures sets how many Failed pods Run replaces before it gives up.
func WithMaxFailures(n int) Option { return func(o *options) { o.maxFailures = n } }

// WithStallTimeout fails Run when the pod does not change phase for d.
func WithStallTimeout(d time.Duration) Option { return func(o *options) { o.stall = d } }

// WithObserver calls f on every change of the pod this process sees.
func WithObserver(f func(Event)) Option { return func(o *options) { o.observe = f } }

// WithBeforeCreate calls f each time this process is about to create the
// pod, i.e. found no pod of its name: what only the pod's creator needs
// (e.g. its service account) goes there, so that processes that adopt the
// pod send no write for it. An error from f is Run's error.
func WithBeforeCreate(f func(context.Context) error) Option {
	return func(o *options) { o.beforeCreate = f }
}

// FailedError says that the pod failed more often than allowed.
type FailedError struct {
	Namespace, Name string
	Failures        int
	Reason, Message string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("pod %s/%s failed %d time(s); last: %s", e.Namespace, e.Name, e.Failures, describe(e.Reason, e.Message))
}

func describe(reason, message string) string {
	switch {
	case reason != "" && message != "":
		return reason + ": " + message
	case message != "":
		return message
	case reason != "":
		return reason
	}
	return "no reason given"
}

// Run creates desired unless a pod of its name exists, waits until the pod
// succeeds and returns it as it finished. A Failed pod is deleted with a UID
// precondition — among processes that saw the same failure one delete lands
// and the others get a conflict or NotFound — and created again, which the
// others adopt on AlreadyExists. After more than the allowed failures Run
// returns a *FailedError.
func Run(ctx context.Context, client ctrlruntimeclient.WithWatch, desired *corev1.Pod, opts ...Option) (*corev1.Pod, error) {
	o := options{maxFailures: 2, stall: 10 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	r := &runner{client: client, desired: desired, opts: o, failedUIDs: map[types.UID]bool{}}
	return r.run(ctx)
}

type runner struct {
	client     ctrlruntimeclient.WithWatch
	desired    *corev1.Pod
	opts       options
	failedUIDs map[types.UID]bool
	lastPhase  corev1.PodPhase
	missing    bool // the last watch ended because the pod was not there
	lastUID    types.UID
}

// ensure creates the pod or adopts the one that exists.
func (r *runner) ensure(ctx context.Context) error {
	if r.opts.beforeCreate != nil {
		if err := r.opts.beforeCreate(ctx); err != nil {
			return err
		}
	}
	var pod *corev1.Pod
	err := retry.OnError(retry.DefaultBackoff, apiretry.IsTransient, func() error {
		// A fresh copy each time: a client may have filled in the last one
		// (a resourceVersion, which a create refuses) before failing.
		pod = r.desired.DeepCopy()
		return r.client.Create(ctx, pod)
	})
	switch {
	case err == nil:
		r.notify(Event{Pod: pod, Created: true, Phase: pod.Status.Phase})
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil
	default:
		return fmt.Errorf("could not create pod %s/%s: %w", r.desired.Namespace, r.desired.Name, err)
	}
}

func (r *runner) notify(ev Event) {
	if r.opts.observe != nil {
		r.opts.observe(ev)
	}
}

func (r *runner) run(ctx context.Context) (*corev1.Pod, error) {
	for vanished := 0; ; {
		done, err := r.watchOnce(ctx)
		if err != nil || done != nil {
			return done, err
		}
		// The pod vanished while it was watched: back off before creating it
		// again, so that a pod deleted over and over does not turn into a
		// tight create/list loop.
		if r.missing {
			vanished++
			if err := apiretry.Sleep(ctx, min(10*time.Millisecond<<min(vanished, 8), 2*time.Second)); err != nil {
				return nil, fmt.Errorf("stopped waiting for pod %s/%s: %w", r.desired.Namespace, r.desired.Name, err)
			}
		} else {
			vanished = 0
		}
	}
}

// watchOnce watches the pod until it succeeds (returned), fails or vanishes
// (nil, nil: the caller re-creates it), or the wait must end (an error).
func (r *runner) watchOnce(ctx context.Context) (*corev1.Pod, error) {
	selector := fields.OneTermEqualSelector("metadata.name", r.desired.Name)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			list := &corev1.PodList{}
			err := r.client.List(ctx, list, ctrlruntimeclient.InNamespace(r.desired.Namespace),
				ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: &options})
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			return r.client.Watch(ctx, &corev1.PodList{}, ctrlruntimeclient.InNamespace(r.desired.Namespace),
				ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: &options})
		},
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	progressed := make(chan struct{}, 1)
	stalled := make(chan struct{})
	go func() {
		timer := time.NewTimer(r.opts.stall)
		defer timer.Stop()
		for {
			select {
			case <-waitCtx.Done():
				return
			case <-progressed:
				timer.Reset(r.opts.stall)
			case <-timer.C:
				close(stalled)
				cancel()
				return
			}
		}
	}()
	r.missing = false
	var unstartable *FailedError
	var succeeded *corev1.Pod
	var failed *corev1.Pod
	var missing bool
	var last *corev1.Pod
	precondition := func(store cache.Store) (bool, error) {
		// Create the pod only when the listing does not show it: a process
		// that finds it running or finished sends no write. A listing that
		// is behind costs an AlreadyExists, and the watch, which starts
		// where the listing ended, brings the pod.
		if _, exists, err := store.GetByKey(r.desired.Namespace + "/" + r.desired.Name); err == nil && !exists {
			return false, r.ensure(ctx)
		}
		return false, nil
	}
	_, err := toolswatch.UntilWithSync(waitCtx, lw, &corev1.Pod{}, precondition, func(ev watch.Event) (bool, error) {
		pod, ok := ev.Object.(*corev1.Pod)
		// A server that ignores field selectors in watches (as
		// controller-runtime's fake does) sends other pods too.
		if !ok || pod.Name != r.desired.Name {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			missing = true
			return true, nil
		}
		last = pod
		if pod.UID != r.lastUID || pod.Status.Phase != r.lastPhase {
			r.lastUID, r.lastPhase = pod.UID, pod.Status.Phase
			select {
			case progressed <- struct{}{}:
			default:
			}
			r.notify(Event{Pod: pod, Phase: pod.Status.Phase})
		}
		if reason, message, ok := cannotStart(pod); ok {
			unstartable = &FailedError{Namespace: pod.Namespace, Name: pod.Name, Failures: 1, Reason: reason, Message: message}
			return true, nil
		}
		switch pod.Status.Phase {
		case corev1.PodSucceeded:
			succeeded = pod
			return true, nil
		case corev1.PodFailed:
			failed = pod
			return true, nil
		}
		return false, nil
	})
	switch {
	case unstartable != nil:
		// Running it again cannot help, and deleting it would take it from
		// the processes that watch it: fail at once.
		return nil, unstartable
	case succeeded != nil:
		return succeeded, nil
	case failed != nil:
		return nil, r.replace(ctx, failed)
	case missing:
		r.missing = true
		return nil, nil
	}
	select {
	case <-stalled:
		phase := corev1.PodPhase("unknown")
		detail := ""
		if last != nil {
			phase = last.Status.Phase
			detail = waitingReason(last)
		}
		return nil, fmt.Errorf("pod %s/%s made no progress for %s (phase %s%s)", r.desired.Namespace, r.desired.Name, r.opts.stall, phase, detail)
	default:
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting for pod %s/%s: %w", r.desired.Namespace, r.desired.Name, ctx.Err())
	}
	return nil, fmt.Errorf("could not watch pod %s/%s: %w", r.desired.Namespace, r.desired.Name, err)
}

// replace deletes a Failed pod so it can run again, or gives up.
func (r *runner) replace(ctx context.Context, pod *corev1.Pod) error {
	r.failedUIDs[pod.UID] = true
	reason, message := failureOf(pod)
	if len(r.failedUIDs) > r.opts.maxFailures {
		return &FailedError{Namespace: pod.Namespace, Name: pod.Name, Failures: len(r.failedUIDs), Reason: reason, Message: message}
	}
	uid := pod.UID
	err := retry.OnError(retry.DefaultBackoff, apiretry.IsTransient, func() error {
		return r.client.Delete(ctx, pod, ctrlruntimeclient.Preconditions{UID: &uid})
	})
	switch {
	case err == nil:
		r.notify(Event{Pod: pod, Phase: corev1.PodFailed, Replaced: true})
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		// Another process replaced it first.
		return nil
	default:
		return fmt.Errorf("could not delete failed pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
}

// failureOf says why a pod failed: the pod's own reason when it has one
// (Evicted, DeadlineExceeded: the containers were stopped, and their state
// says only that), else the first container that exited non-zero.
func failureOf(pod *corev1.Pod) (string, string) {
	if pod.Status.Reason != "" || pod.Status.Message != "" {
		return pod.Status.Reason, pod.Status.Message
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return t.Reason, t.Message
		}
	}
	return "", ""
}

func waitingReason(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return ", " + describe(w.Reason, w.Message)
		}
	}
	return ""
}

// TerminationMessage returns the message the pod's first container wrote on
// termination.
func TerminationMessage(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Terminated != nil {
			return cs.State.Terminated.Message
		}
	}
	return ""
}

// cannotStart reports a pod whose container the kubelet will never start: a
// reference that does not parse, an image the pod may not pull, a container
// that cannot be configured. (ErrImagePull and ImagePullBackOff may clear
// up; the stall timeout bounds those.)
func cannotStart(pod *corev1.Pod) (string, string, bool) {
	if pod.Status.Phase != corev1.PodPending {
		return "", "", false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError":
				return w.Reason, w.Message, true
			}
		}
	}
	return "", "", false
}
