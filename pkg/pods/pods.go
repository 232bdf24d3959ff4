// Package pods runs a pod that any number of processes may ask for at once:
// the pod is created by whichever process gets there first and adopted by
// the others, waited for by watch, and replaced (by exactly one process)
// when it fails, once the failed pod is gone. A pod that is being deleted
// is waited out, never adopted.
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
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
	"github.com/ci-operator-plugins/import-release/pkg/internal/watchone"
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
	createDelay  time.Duration
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

// WithCreateDelay makes a process that finds no pod wait up to d for
// another process to create it (and adopt that one) before it creates the
// pod itself: processes that know another one is to create the pod send no
// create that would get AlreadyExists, and one that died delays the rest by
// at most d.
func WithCreateDelay(d time.Duration) Option { return func(o *options) { o.createDelay = d } }

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
	// One retry policy for every request; a client that has it already is
	// not wrapped again.
	client = apiretry.NewClient(client, apiretry.DefaultBackoff)
	r := &runner{client: client, desired: desired, opts: o, failedUIDs: map[types.UID]bool{}}
	return r.run(ctx)
}

type runner struct {
	// mu serializes the observer's calls: a delayed create runs beside the
	// watch.
	mu         sync.Mutex
	client     ctrlruntimeclient.WithWatch
	desired    *corev1.Pod
	opts       options
	failedUIDs map[types.UID]bool
	lastPhase  corev1.PodPhase
	lastUID    types.UID
}

// outcome is what one watch of the pod ended with.
type outcome int

const (
	succeeded   outcome = iota
	failed              // Failed: replace it
	terminating         // being deleted: wait until it is gone
	missing             // not there: create it
)

// ensure creates the pod or adopts the one that exists; the watch that
// follows judges an adopted one (a Terminating pod is waited out, not
// adopted).
func (r *runner) ensure(ctx context.Context) error {
	if r.opts.beforeCreate != nil {
		if err := r.opts.beforeCreate(ctx); err != nil {
			return err
		}
	}
	pod := r.desired.DeepCopy()
	err := r.client.Create(ctx, pod)
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
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.observe != nil {
		r.opts.observe(ev)
	}
}

func (r *runner) run(ctx context.Context) (*corev1.Pod, error) {
	for vanished := 0; ; {
		result, pod, err := r.watchOnce(ctx)
		if err != nil {
			return nil, err
		}
		switch result {
		case succeeded:
			return pod, nil
		case failed:
			err = r.replace(ctx, pod)
		case terminating:
			err = r.waitGone(ctx, pod.UID)
		}
		if err != nil {
			return nil, err
		}
		// The pod vanished while it was watched: back off before creating it
		// again, so that a pod deleted over and over does not turn into a
		// tight create/list loop.
		if result == missing {
			vanished++
			if err := apiretry.Sleep(ctx, min(10*time.Millisecond<<min(vanished, 8), 2*time.Second)); err != nil {
				return nil, fmt.Errorf("stopped waiting for pod %s/%s: %w", r.desired.Namespace, r.desired.Name, err)
			}
		} else {
			vanished = 0
		}
	}
}

func (r *runner) target() watchone.Target {
	return watchone.Target{Client: r.client, Key: types.NamespacedName{Namespace: r.desired.Namespace, Name: r.desired.Name},
		List: &corev1.PodList{}, Object: &corev1.Pod{}}
}

// watchOnce creates the pod if the listing does not show it and watches it
// until it succeeds, fails, is being deleted or vanishes, or the wait must
// end (an error).
func (r *runner) watchOnce(ctx context.Context) (outcome, *corev1.Pod, error) {
	var result outcome
	var last *corev1.Pod
	var unstartable *FailedError
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	delayed := &delayedCreate{}
	defer delayed.stop()
	_, err := watchone.Until(waitCtx, r.target(), r.opts.stall, func(ev watch.Event) (bool, bool, error) {
		pod, ok := ev.Object.(*corev1.Pod)
		switch {
		case !ok:
			return false, false, nil
		case ev.Type == watchone.Absent:
			return false, false, r.absent(waitCtx, cancel, delayed)
		case ev.Type == watch.Deleted:
			result = missing
			return true, true, nil
		}
		delayed.stop()
		last = pod
		progress := pod.UID != r.lastUID || pod.Status.Phase != r.lastPhase
		if progress {
			r.lastUID, r.lastPhase = pod.UID, pod.Status.Phase
			r.notify(Event{Pod: pod, Phase: pod.Status.Phase})
		}
		if reason, message, ok := cannotStart(pod); ok && pod.DeletionTimestamp == nil {
			unstartable = &FailedError{Namespace: pod.Namespace, Name: pod.Name, Failures: 1, Reason: reason, Message: message}
			return progress, true, nil
		}
		result, ok = judge(pod)
		return progress, ok, nil
	})
	var stalled *watchone.StalledError
	delayed.stop()
	switch {
	case err != nil && ctx.Err() == nil && context.Cause(waitCtx) != nil && !errors.Is(context.Cause(waitCtx), context.Canceled):
		return 0, nil, context.Cause(waitCtx)
	case unstartable != nil:
		// Running it again cannot help, and deleting it would take it from
		// the processes that watch it: fail at once.
		return 0, nil, unstartable
	case errors.As(err, &stalled):
		phase, detail := corev1.PodPhase("unknown"), ""
		if last != nil {
			phase, detail = last.Status.Phase, waitingReason(last)
		}
		return 0, nil, fmt.Errorf("%w (phase %s%s)", err, phase, detail)
	case err != nil:
		return 0, nil, fmt.Errorf("could not watch pod %s/%s: %w", r.desired.Namespace, r.desired.Name, err)
	}
	return result, last, nil
}

// absent creates the pod the listing did not show, at once or after the
// create delay (a delayed create that fails ends the wait with its error).
// A process that finds the pod running or finished sends no write. A
// listing that is behind costs an AlreadyExists, and the watch, which
// starts where the listing ended, brings the pod.
func (r *runner) absent(ctx context.Context, cancel context.CancelCauseFunc, delayed *delayedCreate) error {
	if r.opts.createDelay <= 0 {
		return r.ensure(ctx)
	}
	delayed.start(r.opts.createDelay, func() {
		if err := r.ensure(ctx); err != nil {
			cancel(err)
		}
	})
	return nil
}

// delayedCreate is a create that waits for another process's first.
type delayedCreate struct {
	timer *time.Timer
	done  chan struct{}
}

func (d *delayedCreate) start(after time.Duration, create func()) {
	d.stop()
	done := make(chan struct{})
	d.done = done
	d.timer = time.AfterFunc(after, func() { defer close(done); create() })
}

// stop cancels the create, or waits until it is done if it has started.
func (d *delayedCreate) stop() {
	if d.timer != nil && !d.timer.Stop() {
		<-d.done
	}
	d.timer = nil
}

// judge says whether a watch of the pod is done with it, and how. A pod
// being deleted is never adopted, whatever its phase: it will be gone.
func judge(pod *corev1.Pod) (outcome, bool) {
	switch {
	case pod.DeletionTimestamp != nil:
		return terminating, true
	case pod.Status.Phase == corev1.PodSucceeded:
		return succeeded, true
	case pod.Status.Phase == corev1.PodFailed:
		return failed, true
	}
	return 0, false
}

// replace deletes a Failed pod so it can run again, or gives up, and waits
// until the pod is gone: a create before that gets AlreadyExists.
func (r *runner) replace(ctx context.Context, pod *corev1.Pod) error {
	r.failedUIDs[pod.UID] = true
	reason, message := failureOf(pod)
	if len(r.failedUIDs) > r.opts.maxFailures {
		return &FailedError{Namespace: pod.Namespace, Name: pod.Name, Failures: len(r.failedUIDs), Reason: reason, Message: message}
	}
	uid := pod.UID
	err := r.client.Delete(ctx, pod, ctrlruntimeclient.Preconditions{UID: &uid})
	switch {
	case err == nil:
		r.notify(Event{Pod: pod, Phase: corev1.PodFailed, Replaced: true})
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		// Another process deleted it first.
	default:
		return fmt.Errorf("could not delete failed pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return r.waitGone(ctx, uid)
}

// waitGone watches until the pod with uid is gone: deleted, or replaced by
// a pod of the same name with another UID (which the next watch judges).
func (r *runner) waitGone(ctx context.Context, uid types.UID) error {
	_, err := watchone.Until(ctx, r.target(), r.opts.stall, func(ev watch.Event) (bool, bool, error) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return false, false, nil
		}
		return false, ev.Type == watch.Deleted || ev.Type == watchone.Absent || pod.UID != uid, nil
	})
	if err != nil {
		return fmt.Errorf("could not wait for pod %s/%s to be deleted: %w", r.desired.Namespace, r.desired.Name, err)
	}
	return nil
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
