package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// Progress is reported whenever the number of imported tags changes.
type Progress struct {
	Stream   string
	Imported int
	Total    int
	// Failed lists the tags whose current import failed.
	Failed []TagState
	// Retriggered counts the imports this waiter re-triggered.
	Retriggered int
	// Nudged counts the imports of pending tags this waiter posted.
	Nudged int
}

type waitOptions struct {
	progress      func(Progress)
	stall         time.Duration
	retries       int
	backoff       wait.Backoff
	policy        imagev1.TagReferencePolicyType
	onRetrigger   func(tags []string)
	claimDuration time.Duration
	holder        string
	since         time.Time
	nudgeAfter    time.Duration
	nudges        int
	nudgeBatch    int
	onNudge       func(tags []string)
}

// WaitOption configures WaitForImports.
type WaitOption func(*waitOptions)

// WithProgress calls f whenever the number of imported tags changes, and once
// at the start.
func WithProgress(f func(Progress)) WaitOption { return func(o *waitOptions) { o.progress = f } }

// WithStallTimeout fails the wait when, for d, no tag changes state and no
// process is importing for the wait (see nudge.go).
func WithStallTimeout(d time.Duration) WaitOption { return func(o *waitOptions) { o.stall = d } }

// WithRetries sets how many times a failed import of a tag is re-triggered
// before the wait fails.
func WithRetries(n int) WaitOption { return func(o *waitOptions) { o.retries = n } }

// WithRetryDelay sets the base delay before a re-trigger; each one waits a
// random time between one and one and a half times the base, doubled for
// every earlier attempt of the chain.
func WithRetryDelay(d time.Duration) WaitOption {
	return func(o *waitOptions) { o.backoff.Duration = d }
}

// WithClaimDuration sets how long a claim on re-triggers stays valid after
// its holder's last renewal: the longest a process that died holding it can
// hold the others up.
func WithClaimDuration(d time.Duration) WaitOption {
	return func(o *waitOptions) { o.claimDuration = d }
}

// WithStart says when the process that waits started its work; a failure
// episode given up before then is not this process's, and it opens a new one
// (see ledger.go). By default, when the wait starts.
func WithStart(t time.Time) WaitOption { return func(o *waitOptions) { o.since = t } }

// WithHolderIdentity names this process in the claims it takes; by default a
// name unique to the wait.
func WithHolderIdentity(id string) WaitOption { return func(o *waitOptions) { o.holder = id } }

// WithReferencePolicy sets the reference policy of the tags, which a
// re-trigger must carry to keep the canonical definition.
func WithReferencePolicy(p imagev1.TagReferencePolicyType) WaitOption {
	return func(o *waitOptions) { o.policy = p }
}

// WithRetriggerObserver calls f with the tags of every re-trigger that reached
// the server.
func WithRetriggerObserver(f func(tags []string)) WaitOption {
	return func(o *waitOptions) { o.onRetrigger = f }
}

// WithNudgeAfter sets how long tags stay pending with no progress before the
// wait imports them itself (see nudge.go); 0 never. By default
// DefaultNudgeAfter or a quarter of the stall timeout, whichever is shorter;
// never more than half of it, so that a holder's renewals reach every
// process before its stall timer runs out.
func WithNudgeAfter(d time.Duration) WaitOption {
	return func(o *waitOptions) { o.nudgeAfter = d }
}

// WithNudges sets how many times, in all processes together, one generation
// of a pending tag is imported by the waits.
func WithNudges(n int) WaitOption { return func(o *waitOptions) { o.nudges = n } }

// WithNudgeObserver calls f with the tags of every nudge that reached the
// server.
func WithNudgeObserver(f func(tags []string)) WaitOption {
	return func(o *waitOptions) { o.onNudge = f }
}

// Defaults of WaitForImports.
const (
	// DefaultStallTimeout is as patient as the step this replaces, which
	// waited 45 minutes for a payload's tags: one batch import of a large
	// payload shows nothing until it ends, and on a busy cluster that can
	// take many minutes. The nudges (DefaultNudgeAfter) import pending tags
	// long before it runs out.
	DefaultStallTimeout = 45 * time.Minute
	// DefaultNudgeAfter is how long tags stay pending with no progress before
	// the wait imports them itself, when a quarter of the stall timeout is
	// longer.
	DefaultNudgeAfter = 150 * time.Second
	// DefaultRetries and DefaultRetryDelay make a transient failure's chain
	// at least as patient as the step this replaces (6 re-imports over ~31 s):
	// 6 re-triggers, the first after 1-1.5 s, each wait doubling, about a
	// minute in all.
	DefaultRetries    = 6
	DefaultRetryDelay = time.Second
)

// WaitForImports watches one stream until every tag in tags is imported for
// its current generation, and returns the stream as last seen. A failed
// import is re-triggered (an ImageStreamImport carrying the canonical tag
// definition and the stream's resourceVersion, so among processes that saw
// the same failure exactly one re-trigger lands and the rest see its
// outcome) up to the retry budget; then the wait fails with an
// *ImportFailedError. Tags left pending with no progress for the nudge delay
// are imported by the wait itself, shared the same way (nudge.go). When, for
// the stall timeout, no tag changes state and no process is importing for
// the wait, it fails with a *StalledError. A tag missing from the spec counts as
// pending: the first listing may predate the write that adds it.
//
// Every request goes through apiretry's one retry policy: client is wrapped
// with apiretry.NewClient unless it is such a client already, and nothing
// here retries a transient error again.
func WaitForImports(ctx context.Context, client ctrlruntimeclient.WithWatch, namespace, stream string, tags []string, opts ...WaitOption) (*imagev1.ImageStream, error) {
	o := waitOptions{
		stall: DefaultStallTimeout, retries: DefaultRetries, claimDuration: DefaultClaimDuration,
		nudgeAfter: -1, nudges: DefaultNudges, nudgeBatch: DefaultNudgeBatch,
		backoff: wait.Backoff{Duration: DefaultRetryDelay, Factor: 2, Jitter: 0.5, Steps: 64, Cap: 5 * time.Minute},
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.holder == "" {
		o.holder = NewHolderIdentity()
	}
	if o.since.IsZero() {
		o.since = time.Now()
	}
	if o.nudgeAfter < 0 || (o.stall > 0 && o.nudgeAfter > o.stall/2) {
		o.nudgeAfter = DefaultNudgeAfter
		if o.stall > 0 {
			o.nudgeAfter = min(DefaultNudgeAfter, o.stall/4)
		}
	}
	w := &waiter{
		client: apiretry.NewClient(client, apiretry.DefaultBackoff), namespace: namespace, stream: stream, tags: tags, opts: o,
		lastImported: -1, progressed: make(chan struct{}, 1), lastActive: time.Now(),
	}
	return w.wait(ctx)
}

type waiter struct {
	client            ctrlruntimeclient.WithWatch
	namespace, stream string
	tags              []string
	opts              waitOptions

	condErr      error // what judge failed with, returned as it is
	retrigger    *retriggerer
	lastImported int
	lastSig      string
	progressed   chan struct{}

	mu          sync.Mutex
	last        *imagev1.ImageStream
	states      []TagState
	stalled     bool
	fatal       error // what the re-triggers ended the wait with
	retriggered int
	nudged      int
	lastActive  time.Time // the last progress or activity
}

func (w *waiter) listWatch() *cache.ListWatch {
	selector := fields.OneTermEqualSelector("metadata.name", w.stream)
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			list := &imagev1.ImageStreamList{}
			err := w.client.List(ctx, list, ctrlruntimeclient.InNamespace(w.namespace),
				ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: &options})
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			return w.client.Watch(ctx, &imagev1.ImageStreamList{}, ctrlruntimeclient.InNamespace(w.namespace),
				ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: &options})
		},
	}
}

func (w *waiter) wait(ctx context.Context) (*imagev1.ImageStream, error) {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go w.watchdog(waitCtx, cancel)
	w.retrigger = newRetriggerer(w)
	retriggerDone := make(chan struct{})
	go func() {
		defer close(retriggerDone)
		if err := w.retrigger.run(waitCtx); err != nil {
			w.mu.Lock()
			w.fatal = err
			w.mu.Unlock()
			cancel()
		}
	}()
	nudgeDone := make(chan struct{})
	go func() { defer close(nudgeDone); newNudger(w).run(waitCtx) }()
	// A claim this process holds is freed before the wait returns.
	defer func() { cancel(); <-retriggerDone; <-nudgeDone }()
	if w.opts.progress != nil {
		w.opts.progress(Progress{Stream: w.stream, Total: len(w.tags)})
	}
	_, err := toolswatch.UntilWithSync(waitCtx, w.listWatch(), &imagev1.ImageStream{}, nil, func(ev watch.Event) (bool, error) {
		is, ok := ev.Object.(*imagev1.ImageStream)
		// A server that ignores field selectors in watches (as
		// controller-runtime's fake does) sends other streams too.
		if !ok || ev.Type == watch.Deleted || is.Name != w.stream {
			return false, nil
		}
		done, err := w.judge(waitCtx, is)
		w.condErr = err
		return done, err
	})
	cancel()
	<-retriggerDone
	<-nudgeDone
	w.mu.Lock()
	last, stalled, states, fatal := w.last, w.stalled, w.states, w.fatal
	w.mu.Unlock()
	if err == nil {
		return last, nil
	}
	if fatal != nil && ctx.Err() == nil {
		return last, fatal
	}
	if stalled && ctx.Err() == nil {
		return last, w.stalledError(states)
	}
	if ctx.Err() != nil {
		return last, fmt.Errorf("stopped waiting for imports into %s/%s: %w", w.namespace, w.stream, ctx.Err())
	}
	if w.condErr != nil && errors.Is(err, w.condErr) {
		return last, err
	}
	return last, fmt.Errorf("could not watch %s/%s: %w", w.namespace, w.stream, err)
}

// stalledError says what the wait was waiting for when it stalled.
func (w *waiter) stalledError(states []TagState) *StalledError {
	imported := 0
	var waiting []TagState
	for _, st := range states {
		if st.Phase == Imported {
			imported++
		} else {
			waiting = append(waiting, st)
		}
	}
	if states == nil {
		for _, tag := range w.tags {
			waiting = append(waiting, TagState{Tag: tag, Phase: Missing})
		}
	}
	return &StalledError{Namespace: w.namespace, Stream: w.stream, Timeout: w.opts.stall, Imported: imported, Total: len(w.tags), Waiting: waiting}
}

// watchdog cancels the wait when nothing progresses for the stall timeout.
func (w *waiter) watchdog(ctx context.Context, cancel context.CancelFunc) {
	if w.opts.stall <= 0 {
		return
	}
	timer := time.NewTimer(w.opts.stall)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.progressed:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(w.opts.stall)
		case <-timer.C:
			w.mu.Lock()
			w.stalled = true
			w.mu.Unlock()
			cancel()
			return
		}
	}
}

// judge decides on one observed state of the stream.
func (w *waiter) judge(ctx context.Context, is *imagev1.ImageStream) (bool, error) {
	states := StatesOf(is, w.tags)
	imported := 0
	var failed []TagState
	var sig strings.Builder
	for _, st := range states {
		fmt.Fprintf(&sig, "%s=%s/%d/%d;", st.Tag, st.Phase, st.Generation, st.FailedGeneration)
		switch st.Phase {
		case Imported:
			imported++
		case Failed:
			failed = append(failed, st)
		}
	}
	w.mu.Lock()
	w.last, w.states = is, states
	w.mu.Unlock()
	if s := sig.String(); s != w.lastSig {
		w.lastSig = s
		w.signalProgress()
	}
	if imported != w.lastImported || len(failed) > 0 {
		w.lastImported = imported
		if w.opts.progress != nil {
			w.mu.Lock()
			retriggered, nudged := w.retriggered, w.nudged
			w.mu.Unlock()
			w.opts.progress(Progress{Stream: w.stream, Imported: imported, Total: len(w.tags), Failed: failed, Retriggered: retriggered, Nudged: nudged})
		}
	}
	if imported == len(w.tags) {
		return true, nil
	}
	if permanent := permanentIn(failed); len(permanent) > 0 {
		return false, &ImportFailedError{Namespace: w.namespace, Stream: w.stream, Failed: permanent}
	}
	if len(failed) > 0 {
		w.retrigger.offer(failed)
	}
	return false, nil
}

// permanentIn returns the failures that asking again cannot fix
// (ClassifyFailure): the wait fails on them at once, without a re-trigger.
func permanentIn(failed []TagState) []TagState {
	var out []TagState
	for _, st := range failed {
		if st.Class() == Permanent {
			out = append(out, st)
		}
	}
	return out
}

// signalProgress resets the stall timer: a tag changed state, or a process
// showed import activity.
func (w *waiter) signalProgress() {
	w.mu.Lock()
	w.lastActive = time.Now()
	w.mu.Unlock()
	select {
	case w.progressed <- struct{}{}:
	default:
	}
}

// get reads the stream.
func (w *waiter) get(ctx context.Context) (*imagev1.ImageStream, error) {
	live := &imagev1.ImageStream{}
	if err := w.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: w.namespace, Name: w.stream}, live); err != nil {
		return nil, fmt.Errorf("could not read image stream %s/%s: %w", w.namespace, w.stream, err)
	}
	return live, nil
}

// idleFor reports whether a tag is pending and nothing progressed for d.
func (w *waiter) idleFor(d time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.lastActive) < d {
		return false
	}
	for _, st := range w.states {
		if st.Phase == Pending {
			return true
		}
	}
	return false
}

// countNudge records a nudge that reached the server.
func (w *waiter) countNudge(tags []string) {
	w.mu.Lock()
	w.nudged++
	w.mu.Unlock()
	if w.opts.onNudge != nil {
		w.opts.onNudge(tags)
	}
}
