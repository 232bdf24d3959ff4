package imagestreams

import (
	"context"
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
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
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

// ImportFailedError says which tags failed to import, from where and why,
// after the re-trigger budget was spent.
type ImportFailedError struct {
	Namespace, Stream string
	Failed            []TagState
}

func (e *ImportFailedError) Error() string {
	var parts []string
	for _, f := range e.Failed {
		parts = append(parts, fmt.Sprintf("%s from %s: %s: %s", f.Tag, f.Source, f.Reason, f.Message))
	}
	return fmt.Sprintf("could not import %d tag(s) into %s/%s: %s", len(e.Failed), e.Namespace, e.Stream, strings.Join(parts, "; "))
}

// StalledError says that nothing changed for the stall timeout and what the
// wait was waiting for.
type StalledError struct {
	Namespace, Stream string
	Timeout           time.Duration
	Imported, Total   int
	Waiting           []TagState
}

func (e *StalledError) Error() string {
	var names []string
	for i, w := range e.Waiting {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(e.Waiting)-5))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s)", w.Tag, strings.ToLower(string(w.Phase))))
	}
	return fmt.Sprintf("no import progress in %s/%s for %s: %d/%d tags imported, waiting for %s",
		e.Namespace, e.Stream, e.Timeout, e.Imported, e.Total, strings.Join(names, ", "))
}

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
		seenFailure: map[string]int64{}, attempts: map[string]int{}, lastImported: -1,
		progressed: make(chan struct{}, 1),
	}
	return w.wait(ctx)
}

type waiter struct {
	client            ctrlruntimeclient.WithWatch
	namespace, stream string
	tags              []string
	opts              waitOptions

	seenFailure  map[string]int64 // tag -> generation of the newest failure seen
	attempts     map[string]int   // tag -> failed attempts seen
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
		return w.judge(waitCtx, is)
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

// retrigger re-imports failed tags within the budget. A re-trigger whose
// failure is identical to the recorded one writes nothing (no event comes),
// so its own answer counts as an attempt.
func (w *waiter) retrigger(ctx context.Context, failed []TagState) error {
	for _, st := range failed {
		if w.seenFailure[st.Tag] != st.FailedGeneration {
			w.seenFailure[st.Tag] = st.FailedGeneration
			w.attempts[st.Tag]++
		}
	}
	for {
		var exhausted []TagState
		for _, st := range failed {
			if w.attempts[st.Tag] > w.opts.retries {
				exhausted = append(exhausted, st)
			}
		}
		if len(exhausted) > 0 {
			sort.Slice(exhausted, func(i, j int) bool { return exhausted[i].Tag < exhausted[j].Tag })
			return &ImportFailedError{Namespace: w.namespace, Stream: w.stream, Failed: exhausted}
		}
		maxAttempts := 0
		for _, st := range failed {
			maxAttempts = max(maxAttempts, w.attempts[st.Tag])
		}
		if sleepCtx(ctx, w.delay(maxAttempts)) != nil {
			return nil //nolint:nilerr // the wait is over; UntilWithSync reports why
		}
		// Another process may have re-triggered while this one waited: act
		// only on tags still failed at the generation seen.
		live := &imagev1.ImageStream{}
		if w.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: w.namespace, Name: w.stream}, live) != nil {
			return nil //nolint:nilerr // a transient read error: the next event or the stall timeout decides
		}
		var still []TagState
		for _, st := range failed {
			now := StateOf(live, st.Tag)
			if now.Phase == Failed && now.FailedGeneration == st.FailedGeneration {
				still = append(still, now)
			}
		}
		if len(still) == 0 {
			return nil
		}
		failed = still
		isi := &imagev1.ImageStreamImport{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.namespace, Name: w.stream, ResourceVersion: live.ResourceVersion},
			Spec:       imagev1.ImageStreamImportSpec{Import: true},
		}
		var names []string
		for _, st := range failed {
			isi.Spec.Images = append(isi.Spec.Images, ImportSpec(st.Tag, st.Source, w.opts.policy))
			names = append(names, st.Tag)
		}
		err := retry.OnError(retry.DefaultBackoff, isTransient, func() error {
			return w.client.Create(ctx, isi)
		})
		switch {
		case apierrors.IsConflict(err):
			return nil // the stream moved on; the next event decides
		case err != nil:
			return fmt.Errorf("could not re-trigger the import of %s in %s/%s: %w", strings.Join(names, ", "), w.namespace, w.stream, err)
		}
		w.retriggered++
		if w.opts.onRetrigger != nil {
			w.opts.onRetrigger(names)
		}
		wrote := isi.Status.Import != nil && isi.Status.Import.ResourceVersion != live.ResourceVersion
		if wrote {
			return nil // the event for the write decides
		}
		// Nothing written: the same failure again. Count it and go round.
		var again []TagState
		for i, img := range isi.Status.Images {
			if img.Status.Status == metav1.StatusFailure && i < len(failed) {
				w.attempts[failed[i].Tag]++
				f := failed[i]
				f.Reason, f.Message = string(img.Status.Reason), img.Status.Message
				again = append(again, f)
			}
		}
		if len(again) == 0 {
			return nil
		}
		failed = again
	}
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

// isTransient reports API errors worth retrying at once.
func isTransient(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
