package imagestreams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// retriggerer runs the re-trigger protocol (see ledger.go) for one wait, in a
// goroutine of its own so that the wait's watch goes on while it waits for
// the Lease or re-imports.
type retriggerer struct {
	w       *waiter
	store   LeaseStore
	holder  string
	clock   expiryClock
	arrival map[string]int

	mu      sync.Mutex
	failed  []TagState
	offers  int
	changed chan struct{}
}

func newRetriggerer(w *waiter) *retriggerer {
	return &retriggerer{
		w:       w,
		store:   LeaseStore{Client: w.client, Key: ctrlruntimeclient.ObjectKey{Namespace: w.namespace, Name: RetriggerLeaseName(w.stream)}},
		holder:  w.opts.holder,
		arrival: map[string]int{},
		changed: make(chan struct{}, 1),
	}
}

// offer hands the failed tags of the newest state of the stream over.
func (r *retriggerer) offer(failed []TagState) {
	r.mu.Lock()
	r.failed = failed
	r.offers++
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *retriggerer) current() []TagState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *retriggerer) offered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.offers
}

// recovered forgets the failed tags, unless a newer state was offered since
// the read that found none.
func (r *retriggerer) recovered(offers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.offers == offers {
		r.failed = nil
	}
}

// run re-triggers failed imports until ctx ends; it returns an
// *ImportFailedError when the budget of a failed tag is spent.
func (r *retriggerer) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.changed:
		}
		for failed := r.current(); len(failed) > 0 && ctx.Err() == nil; failed = r.current() {
			done, err := r.step(ctx, failed)
			if err != nil || done {
				return err
			}
		}
	}
}

// step makes one move for the failed tags: wait for another holder, or take
// the Lease and run the chain. It reports done when the wait must end.
func (r *retriggerer) step(ctx context.Context, failed []TagState) (bool, error) {
	lease, err := r.store.Get(ctx)
	if err != nil {
		return ctx.Err() == nil, ignoreCancel(ctx, err)
	}
	l := readLedger(lease)
	noteArrival(r.arrival, l, failed, r.w.opts.since)
	if gone := spentFor(l, failed, r.arrival); len(gone) > 0 {
		return true, &ImportFailedError{Namespace: r.w.namespace, Stream: r.w.stream, Failed: gone}
	}
	now := time.Now()
	if holder := HolderOf(lease); holder != "" && holder != r.holder {
		if expiry := r.clock.expiry(lease, now); now.Before(expiry) {
			r.store.WaitForChange(ctx, lease.ResourceVersion, expiry)
			return false, nil
		}
	}
	Hold(lease, r.holder, r.w.opts.claimDuration, now)
	if err := r.store.Put(ctx, lease); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil
		}
		// The write may have landed although its answer was lost.
		r.freeIfHeld(ctx, nil)
		return ctx.Err() == nil, ignoreCancel(ctx, fmt.Errorf("could not claim re-triggers into %s/%s: %w", r.w.namespace, r.w.stream, err))
	}
	err = r.chain(ctx, &heldLease{store: r.store, holder: r.holder, lease: lease})
	return err != nil, err
}

func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil //nolint:nilerr // a cancelled caller records nothing; its context says why
	}
	return err
}

// chain re-triggers, as the Lease's holder, the failed tags until none is
// failed or a budget is spent, and frees the Lease.
func (r *retriggerer) chain(ctx context.Context, held *heldLease) (err error) {
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); held.renew(renewCtx, r.w.opts.claimDuration) }()
	var spent ledger
	defer func() {
		stopRenewing()
		<-renewed
		r.release(ctx, held, spent)
	}()
	backoff := r.w.opts.backoff
	for {
		if apiretry.Sleep(ctx, backoff.Step()) != nil {
			return nil
		}
		offers := r.offered()
		live, err := r.w.get(ctx)
		if err != nil {
			return ignoreCancel(ctx, err)
		}
		failed := failedIn(live, r.w.tags)
		if len(failed) == 0 {
			r.recovered(offers)
			return nil
		}
		if permanent := permanentIn(failed); len(permanent) > 0 {
			return &ImportFailedError{Namespace: r.w.namespace, Stream: r.w.stream, Failed: permanent}
		}
		p := planRetriggers(readLedger(held.current()), failed, r.w.opts.retries, r.arrival, time.Now())
		if len(p.exhausted) > 0 {
			spent = p.next
			return &ImportFailedError{Namespace: r.w.namespace, Stream: r.w.stream, Failed: p.exhausted}
		}
		err = held.update(ctx, func(l *coordinationv1.Lease) { writeLedger(l, p.next) })
		if errors.Is(err, errLostLease) {
			return nil
		} else if err != nil {
			return ignoreCancel(ctx, fmt.Errorf("could not count the re-trigger in lease %s: %w", r.store.Key, err))
		}
		r.w.signalProgress()
		if err := r.w.reimport(ctx, live, p.retry); err != nil {
			return ignoreCancel(ctx, err)
		}
	}
}

// release frees the Lease, recording spent when a budget ran out, even when
// ctx was cancelled: nobody may wait on a holder that has gone.
func (r *retriggerer) release(ctx context.Context, held *heldLease, spent ledger) {
	detached, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_ = held.update(detached, func(l *coordinationv1.Lease) {
		if spent != nil {
			writeLedger(l, spent)
		}
		Free(l, time.Now())
	})
}

// freeIfHeld reads the Lease and frees it when this process holds it: a claim
// whose answer was lost may have landed.
func (r *retriggerer) freeIfHeld(ctx context.Context, spent ledger) {
	detached, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	lease, err := r.store.Get(detached)
	if err != nil || HolderOf(lease) != r.holder {
		return
	}
	r.release(ctx, &heldLease{store: r.store, holder: r.holder, lease: lease}, spent)
}

func failedIn(is *imagev1.ImageStream, tags []string) []TagState {
	var failed []TagState
	for _, st := range StatesOf(is, tags) {
		if st.Phase == Failed {
			failed = append(failed, st)
		}
	}
	return failed
}

var errLostLease = errors.New("the lease has another holder")

// heldLease is a Lease this process holds; its writes (renewals, the ledger)
// go through update, one at a time.
type heldLease struct {
	store  LeaseStore
	holder string

	mu    sync.Mutex
	lease *coordinationv1.Lease
}

func (h *heldLease) current() *coordinationv1.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lease.DeepCopy()
}

// update writes mutate's change to the Lease, re-reading it on a conflict;
// errLostLease when another process holds it by then.
func (h *heldLease) update(ctx context.Context, mutate func(*coordinationv1.Lease)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return apiretry.DoIf(ctx, leaseBackoff, apierrors.IsConflict, func() error {
		next := h.lease.DeepCopy()
		mutate(next)
		err := h.store.Put(ctx, next)
		if err == nil {
			h.lease = next
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh, getErr := h.store.Get(ctx)
		if getErr != nil {
			return getErr
		}
		if HolderOf(fresh) != h.holder {
			return errLostLease
		}
		h.lease = fresh
		return err
	})
}

// renew keeps the Lease alive until ctx ends or another process holds it.
func (h *heldLease) renew(ctx context.Context, duration time.Duration) {
	_ = wait.PollUntilContextCancel(ctx, max(duration/3, 10*time.Millisecond), false, func(ctx context.Context) (bool, error) {
		err := h.update(ctx, func(l *coordinationv1.Lease) {
			t := metav1.NewMicroTime(time.Now())
			l.Spec.RenewTime = &t
		})
		return errors.Is(err, errLostLease), nil
	})
}

// leaseBackoff paces writes of a held Lease: they must land, while renewals
// and other processes' reads go on.
var leaseBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second}

// reimport posts one ImageStreamImport of the failed tags, conditional on the
// resourceVersion of live: a stream that changed meanwhile makes it a 409,
// and the attempt counts.
func (w *waiter) reimport(ctx context.Context, live *imagev1.ImageStream, tags []TagState) error {
	names, err := w.postImport(ctx, live, tags)
	switch {
	case err == nil:
		w.mu.Lock()
		w.retriggered++
		w.mu.Unlock()
		if w.opts.onRetrigger != nil {
			w.opts.onRetrigger(names)
		}
		return nil
	case apierrors.IsConflict(err):
		return nil
	}
	return err
}

// postImport posts one ImageStreamImport of tags with their canonical
// definition, conditional on the resourceVersion of live, and returns the
// tags' names.
func (w *waiter) postImport(ctx context.Context, live *imagev1.ImageStream, tags []TagState) ([]string, error) {
	isi := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.namespace, Name: w.stream, ResourceVersion: live.ResourceVersion},
		Spec:       imagev1.ImageStreamImportSpec{Import: true},
	}
	names := make([]string, 0, len(tags))
	for _, st := range tags {
		isi.Spec.Images = append(isi.Spec.Images, ImportSpec(st.Tag, st.Source, w.opts.policy))
		names = append(names, st.Tag)
	}
	err := w.client.Create(ctx, isi.DeepCopy())
	if err != nil && !apierrors.IsConflict(err) {
		return names, fmt.Errorf("could not import %s into %s/%s: %w", strings.Join(names, ", "), w.namespace, w.stream, err)
	}
	return names, err
}
