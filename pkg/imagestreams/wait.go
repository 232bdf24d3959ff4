package imagestreams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
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
}

type waitOptions struct {
	progress    func(Progress)
	stall       time.Duration
	retries     int
	jitter      time.Duration
	policy      imagev1.TagReferencePolicyType
	onRetrigger func(tags []string)
}

// WaitOption configures WaitForImports.
type WaitOption func(*waitOptions)

// WithProgress calls f whenever the number of imported tags changes, and once
// at the start.
func WithProgress(f func(Progress)) WaitOption { return func(o *waitOptions) { o.progress = f } }

// WithStallTimeout fails the wait when no tag changes state for d.
func WithStallTimeout(d time.Duration) WaitOption { return func(o *waitOptions) { o.stall = d } }

// WithRetries sets how many times a failed import of a tag is re-triggered
// before the wait fails.
func WithRetries(n int) WaitOption { return func(o *waitOptions) { o.retries = n } }

// WithRetryDelay sets the base delay before a re-trigger; each one waits a
// random time between half and one and a half times the base, doubled for
// every earlier attempt, so processes that saw the same failure do not all
// re-trigger at once.
func WithRetryDelay(d time.Duration) WaitOption { return func(o *waitOptions) { o.jitter = d } }

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

// Defaults of WaitForImports.
const (
	DefaultStallTimeout = 10 * time.Minute
	DefaultRetries      = 2
	DefaultRetryDelay   = time.Second
)

// WaitForImports watches one stream until every tag in tags is imported for
// its current generation, and returns the stream as last seen. A failed
// import is re-triggered (an ImageStreamImport carrying the canonical tag
// definition and the stream's resourceVersion, so among processes that saw
// the same failure exactly one re-trigger lands and the rest see its
// outcome) up to the retry budget; then the wait fails with an
// *ImportFailedError. When no tag changes state for the stall timeout the
// wait fails with a *StalledError. A tag missing from the spec counts as
// pending: the first listing may predate the write that adds it.
func WaitForImports(ctx context.Context, client ctrlruntimeclient.WithWatch, namespace, stream string, tags []string, opts ...WaitOption) (*imagev1.ImageStream, error) {
	o := waitOptions{stall: DefaultStallTimeout, retries: DefaultRetries, jitter: DefaultRetryDelay}
	for _, opt := range opts {
		opt(&o)
	}
	w := &waiter{
		client: client, namespace: namespace, stream: stream, tags: tags, opts: o,
		attempts: map[string]int{}, lastImported: -1,
		progressed: make(chan struct{}, 1),
	}
	return w.wait(ctx)
}

type waiter struct {
	client            ctrlruntimeclient.WithWatch
	namespace, stream string
	tags              []string
	opts              waitOptions

	attempts     map[string]int // tag -> re-triggers known: the ledger's or this process's own
	condErr      error          // what judge failed with, returned as it is
	retriggered  int
	lastImported int
	lastSig      string
	progressed   chan struct{}

	mu      sync.Mutex
	last    *imagev1.ImageStream
	states  []TagState
	stalled bool
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
	if w.opts.progress != nil {
		w.opts.progress(Progress{Stream: w.stream, Total: len(w.tags)})
	}
	_, err := toolswatch.UntilWithSync(waitCtx, w.listWatch(), &imagev1.ImageStream{}, nil, func(ev watch.Event) (bool, error) {
		is, ok := ev.Object.(*imagev1.ImageStream)
		if !ok || ev.Type == watch.Deleted {
			return false, nil
		}
		done, err := w.judge(waitCtx, is)
		w.condErr = err
		return done, err
	})
	w.mu.Lock()
	last, stalled, states := w.last, w.stalled, w.states
	w.mu.Unlock()
	if err == nil {
		return last, nil
	}
	var failed *ImportFailedError
	if errors.As(err, &failed) {
		return last, err
	}
	if stalled && ctx.Err() == nil {
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
		return last, &StalledError{Namespace: w.namespace, Stream: w.stream, Timeout: w.opts.stall, Imported: imported, Total: len(w.tags), Waiting: waiting}
	}
	if ctx.Err() != nil {
		return last, fmt.Errorf("stopped waiting for imports into %s/%s: %w", w.namespace, w.stream, ctx.Err())
	}
	if w.condErr != nil && errors.Is(err, w.condErr) {
		return last, err
	}
	return last, fmt.Errorf("could not watch %s/%s: %w", w.namespace, w.stream, err)
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
	states := make([]TagState, len(w.tags))
	imported := 0
	var failed []TagState
	var sig strings.Builder
	for i, tag := range w.tags {
		states[i] = StateOf(is, tag)
		fmt.Fprintf(&sig, "%s=%s/%d/%d;", tag, states[i].Phase, states[i].Generation, states[i].FailedGeneration)
		switch states[i].Phase {
		case Imported:
			imported++
		case Failed:
			failed = append(failed, states[i])
		}
	}
	w.mu.Lock()
	w.last, w.states = is, states
	w.mu.Unlock()
	if s := sig.String(); s != w.lastSig {
		w.lastSig = s
		select {
		case w.progressed <- struct{}{}:
		default:
		}
	}
	if imported != w.lastImported || len(failed) > 0 {
		w.lastImported = imported
		if w.opts.progress != nil {
			w.opts.progress(Progress{Stream: w.stream, Imported: imported, Total: len(w.tags), Failed: failed, Retriggered: w.retriggered})
		}
	}
	if imported == len(w.tags) {
		return true, nil
	}
	if len(failed) == 0 {
		return false, nil
	}
	return false, w.retrigger(ctx, failed)
}

// RetriggerAnnotation on a stream is the ledger of re-triggered imports that
// every process shares: per tag, the source the budget is for, how many
// re-triggers were claimed, and whether the last one finished. A claim is a
// merge patch conditional on the resourceVersion, so among processes that
// saw the same failure exactly one claims it and posts the
// ImageStreamImport; the others see the claim and wait for its outcome. The
// ledger is needed because a failure identical to the recorded one writes
// nothing: without it, every process would re-import the tag itself.
const RetriggerAnnotation = "ci.openshift.io/import-release-retriggers"

// ManagerRetrigger owns the re-trigger ledger.
const ManagerRetrigger = FieldManager + "-retrigger"

type ledgerEntry struct {
	From    string `json:"from"`
	Claimed int    `json:"claimed"`
	Done    bool   `json:"done"`
}

func readLedger(is *imagev1.ImageStream) map[string]ledgerEntry {
	ledger := map[string]ledgerEntry{}
	if raw := is.Annotations[RetriggerAnnotation]; raw != "" {
		// A ledger that does not parse is treated as empty: the local cap on
		// attempts still bounds this process.
		_ = json.Unmarshal([]byte(raw), &ledger)
	}
	return ledger
}

// retrigger re-imports failed tags within the budget shared through the
// ledger, and returns an *ImportFailedError once the budget of a failed tag
// is spent. It returns nil when there is nothing to do but wait for the next
// event: the tags recovered, or another process holds the claim.
func (w *waiter) retrigger(ctx context.Context, failed []TagState) error {
	for round := 0; ; round++ {
		if apiretry.Sleep(ctx, w.delay(round)) != nil {
			return nil //nolint:nilerr // the wait is over; UntilWithSync reports why
		}
		live, err := w.get(ctx)
		if err != nil {
			return err
		}
		ledger := readLedger(live)
		var claim, exhausted []TagState
		for _, st := range failed {
			now := StateOf(live, st.Tag)
			if now.Phase != Failed {
				continue
			}
			entry := ledger[st.Tag]
			if entry.From != now.Source {
				entry = ledgerEntry{From: now.Source, Done: true}
			}
			w.attempts[st.Tag] = max(w.attempts[st.Tag], entry.Claimed)
			switch {
			case !entry.Done:
				// Another process is re-triggering it; its outcome will come
				// as an event.
			case entry.Claimed >= w.opts.retries || w.attempts[st.Tag] > w.opts.retries:
				exhausted = append(exhausted, now)
			default:
				entry.Claimed++
				entry.Done = false
				ledger[st.Tag] = entry
				claim = append(claim, now)
			}
		}
		if len(exhausted) > 0 {
			sort.Slice(exhausted, func(i, j int) bool { return exhausted[i].Tag < exhausted[j].Tag })
			return &ImportFailedError{Namespace: w.namespace, Stream: w.stream, Failed: exhausted}
		}
		if len(claim) == 0 {
			return nil
		}
		claimed, err := w.writeLedger(ctx, live, ledger)
		switch {
		case apierrors.IsConflict(err):
			continue // someone else wrote first: read again
		case err != nil:
			return err
		}
		if err := w.reimport(ctx, claimed, claim); err != nil {
			return err
		}
		failed = claim
	}
}

// reimport posts the ImageStreamImport for claimed tags and then marks the
// claims done, even when ctx is cancelled, so other processes do not wait
// for a re-trigger that will never finish.
func (w *waiter) reimport(ctx context.Context, claimed *imagev1.ImageStream, tags []TagState) error {
	isi := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.namespace, Name: w.stream, ResourceVersion: claimed.ResourceVersion},
		Spec:       imagev1.ImageStreamImportSpec{Import: true},
	}
	var names []string
	for _, st := range tags {
		isi.Spec.Images = append(isi.Spec.Images, ImportSpec(st.Tag, st.Source, w.opts.policy))
		names = append(names, st.Tag)
		w.attempts[st.Tag]++
	}
	importErr := retry.OnError(retry.DefaultBackoff, apiretry.IsTransient, func() error {
		return w.client.Create(ctx, isi)
	})
	if importErr == nil {
		w.retriggered++
		if w.opts.onRetrigger != nil {
			w.opts.onRetrigger(names)
		}
	}
	release, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	doneErr := retry.OnError(ledgerBackoff, func(err error) bool { return apierrors.IsConflict(err) || apiretry.IsTransient(err) }, func() error {
		live, err := w.get(release)
		if err != nil {
			return err
		}
		ledger := readLedger(live)
		for _, st := range tags {
			entry := ledger[st.Tag]
			entry.Done = true
			ledger[st.Tag] = entry
		}
		_, err = w.writeLedger(release, live, ledger)
		return err
	})
	switch {
	case importErr != nil && !apierrors.IsConflict(importErr):
		// A conflict means the stream changed under the import, which was
		// discarded; the claim counts and the next round decides.
		return fmt.Errorf("could not re-trigger the import of %s in %s/%s: %w", strings.Join(names, ", "), w.namespace, w.stream, importErr)
	case doneErr != nil:
		return fmt.Errorf("could not record the re-trigger of %s in %s/%s: %w", strings.Join(names, ", "), w.namespace, w.stream, doneErr)
	}
	return nil
}

// ledgerBackoff paces the write that marks a claim done: it must land, and
// the import controller and other processes write the stream meanwhile.
var ledgerBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second}

// writeLedger stores ledger on the stream with a merge patch conditional on
// live's resourceVersion and returns the stream as written.
func (w *waiter) writeLedger(ctx context.Context, live *imagev1.ImageStream, ledger map[string]ledgerEntry) (*imagev1.ImageStream, error) {
	raw, err := json.Marshal(ledger)
	if err != nil {
		return nil, err
	}
	next := live.DeepCopy()
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	next.Annotations[RetriggerAnnotation] = string(raw)
	patch := ctrlruntimeclient.MergeFromWithOptions(live, ctrlruntimeclient.MergeFromWithOptimisticLock{})
	if err := w.client.Patch(ctx, next, patch, ctrlruntimeclient.FieldOwner(ManagerRetrigger)); err != nil {
		return nil, err
	}
	return next, nil
}

// get reads the stream, retrying errors worth retrying.
func (w *waiter) get(ctx context.Context) (*imagev1.ImageStream, error) {
	live := &imagev1.ImageStream{}
	err := retry.OnError(retry.DefaultBackoff, apiretry.IsTransient, func() error {
		return w.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: w.namespace, Name: w.stream}, live)
	})
	if err != nil {
		return nil, fmt.Errorf("could not read image stream %s/%s: %w", w.namespace, w.stream, err)
	}
	return live, nil
}

func (w *waiter) delay(attempt int) time.Duration {
	if w.opts.jitter <= 0 {
		return 0
	}
	d := time.Duration(float64(w.opts.jitter) * (0.5 + rand.Float64()))
	for i := 1; i < attempt; i++ {
		d *= 2
	}
	return d
}
