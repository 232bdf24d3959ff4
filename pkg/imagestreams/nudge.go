package imagestreams

import (
	"context"
	"errors"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// Nudges.
//
// The import controller's batch import of a stream is conditional on the
// stream's resourceVersion: a write that lands while it runs makes it a
// conflict, and the controller retries after a per-stream backoff that grows
// to many minutes. A tag can so stay pending for long with nothing failed,
// and a stuck controller leaves it pending for ever. A wait that has seen
// pending tags and no progress for the nudge delay (WithNudgeAfter) imports
// them itself: an ImageStreamImport carrying the stream's resourceVersion and
// the canonical definition of the tags (ImportSpec), at most
// DefaultNudgeBatch tags per request, so each request is short and fits
// between other writers' updates.
//
// Nudges are shared like re-triggers (see ledger.go): one process at a time
// per stream holds the Lease NudgeLeaseName(stream) and nudges, renewing it
// every third of its duration; the others wait on the Lease and see the
// result on their stream watch. NudgeLedgerAnnotation counts the nudges of
// each tag's generation; at most DefaultNudges per generation are posted by
// all processes together. A request unanswered after the stall timeout is
// abandoned and counts.
//
// The stall rule: a wait fails with a *StalledError when, for the stall
// timeout, no tag changed state and no process showed import activity: a
// holder of the nudge Lease renewing it (seen by the holder itself and by
// every process that reads the Lease) counts as activity. A legitimately
// slow import is thus never a stall: once the nudge delay has passed, the
// step imports the pending tags in small batches itself, and each batch
// that lands is progress. A stuck import — the controller idle and the
// nudges unanswered or refused until their budget is spent — ends in a
// *StalledError naming the tags it waited for.

// NudgeLedgerAnnotation holds, on the nudge Lease, the nudges counted per tag.
const NudgeLedgerAnnotation = "ci.openshift.io/import-release-nudges"

// NudgeLeaseName is the name of the Lease of nudges into stream.
func NudgeLeaseName(stream string) string {
	return "import-release-nudge-" + stream
}

// Defaults of the nudges.
const (
	// DefaultNudges is the number of nudges of one tag generation, by all
	// processes together.
	DefaultNudges = 3
	// DefaultNudgeBatch is the number of tags one nudge imports.
	DefaultNudgeBatch = 10
)

// nudgeEntry counts the nudges of one generation of a tag.
type nudgeEntry struct {
	From       string `json:"from"`
	Generation int64  `json:"generation"`
	Nudges     int    `json:"nudges"`
}

type nudgeLedger map[string]nudgeEntry

func readNudges(lease *coordinationv1.Lease) nudgeLedger {
	l := nudgeLedger{}
	ReadLeaseAnnotation(lease, NudgeLedgerAnnotation, &l)
	return l
}

func writeNudges(lease *coordinationv1.Lease, l nudgeLedger) {
	WriteLeaseAnnotation(lease, NudgeLedgerAnnotation, l)
}

// planNudges picks the next batch of pending tags whose generation has
// budget left, and returns the ledger that counts it.
func planNudges(l nudgeLedger, pending []TagState, budget, batch int) ([]TagState, nudgeLedger) {
	next := nudgeLedger{}
	for tag, e := range l {
		next[tag] = e
	}
	var picked []TagState
	for _, st := range pending {
		if len(picked) == batch {
			break
		}
		e := next[st.Tag]
		if e.From != st.Source || e.Generation != st.Generation {
			e = nudgeEntry{From: st.Source, Generation: st.Generation}
		}
		if e.Nudges >= budget {
			continue
		}
		e.Nudges++
		next[st.Tag] = e
		picked = append(picked, st)
	}
	return picked, next
}

// pendingIn returns the tags of is that are pending with a source to import.
func pendingIn(is *imagev1.ImageStream, tags []string) []TagState {
	var out []TagState
	for _, st := range StatesOf(is, tags) {
		if st.Phase == Pending && st.Source != "" && st.Generation > 0 {
			out = append(out, st)
		}
	}
	return out
}

// nudger imports, for one wait, tags left pending (see above).
type nudger struct {
	w      *waiter
	store  LeaseStore
	clock  expiryClock
	seenRV string
}

func newNudger(w *waiter) *nudger {
	return &nudger{w: w, store: LeaseStore{Client: w.client, Key: ctrlruntimeclient.ObjectKey{Namespace: w.namespace, Name: NudgeLeaseName(w.stream)}}}
}

// run nudges until ctx ends. Errors end nothing: the stall rule decides.
func (n *nudger) run(ctx context.Context) {
	after := n.w.opts.nudgeAfter
	if after <= 0 {
		return
	}
	for apiretry.Sleep(ctx, max(after/4, time.Millisecond)) == nil {
		if !n.w.idleFor(after) {
			continue
		}
		n.step(ctx)
	}
}

// step waits for another holder of the Lease (whose renewals are activity)
// or takes it and nudges.
func (n *nudger) step(ctx context.Context) {
	lease, err := n.store.Get(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	if holder := HolderOf(lease); holder != "" && holder != n.w.opts.holder {
		if expiry := n.clock.expiry(lease, now); now.Before(expiry) {
			if lease.ResourceVersion != n.seenRV {
				n.seenRV = lease.ResourceVersion
				n.w.signalProgress()
			}
			n.store.WaitForChange(ctx, lease.ResourceVersion, expiry)
			return
		}
	}
	// Nothing left to nudge (the budget is spent): no claim, no activity.
	live, err := n.w.get(ctx)
	if err != nil {
		return
	}
	if batch, _ := planNudges(readNudges(lease), pendingIn(live, n.w.tags), n.w.opts.nudges, n.w.opts.nudgeBatch); len(batch) == 0 {
		return
	}
	Hold(lease, n.w.opts.holder, n.w.opts.claimDuration, now)
	if err := n.store.Put(ctx, lease); err != nil {
		return
	}
	held := &heldLease{store: n.store, holder: n.w.opts.holder, lease: lease}
	n.chain(ctx, held)
}

// chain nudges, as the Lease's holder, batches of pending tags until none is
// pending or their budget is spent, then frees the Lease.
func (n *nudger) chain(ctx context.Context, held *heldLease) {
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); n.heartbeat(renewCtx, held) }()
	defer func() {
		stopRenewing()
		<-renewed
		detached, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = held.update(detached, func(l *coordinationv1.Lease) { Free(l, time.Now()) })
	}()
	for ctx.Err() == nil {
		live, err := n.w.get(ctx)
		if err != nil {
			return
		}
		batch, next := planNudges(readNudges(held.current()), pendingIn(live, n.w.tags), n.w.opts.nudges, n.w.opts.nudgeBatch)
		if len(batch) == 0 {
			return
		}
		if held.update(ctx, func(l *coordinationv1.Lease) { writeNudges(l, next) }) != nil {
			return
		}
		reqCtx, cancel := context.WithTimeout(ctx, n.requestTimeout())
		names, err := n.w.postImport(reqCtx, live, batch)
		abandoned := reqCtx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err == nil || abandoned:
			// An import unanswered within the request timeout counts as
			// a nudge, as its ledger entry already does.
			n.w.countNudge(names)
		case !apierrors.IsConflict(err) && ctx.Err() == nil:
			_ = apiretry.Sleep(ctx, n.w.opts.backoff.Duration)
		}
	}
}

// heartbeat renews the held Lease until ctx ends or another process holds
// it; every renewal is activity for the stall rule.
func (n *nudger) heartbeat(ctx context.Context, held *heldLease) {
	interval := max(min(n.w.opts.claimDuration, n.w.opts.stall)/3, 10*time.Millisecond)
	_ = wait.PollUntilContextCancel(ctx, interval, false, func(ctx context.Context) (bool, error) {
		n.w.signalProgress()
		err := held.update(ctx, func(l *coordinationv1.Lease) {
			t := metav1.NewMicroTime(time.Now())
			l.Spec.RenewTime = &t
		})
		return errors.Is(err, errLostLease), nil
	})
}

// requestTimeout bounds one nudge: an import unanswered for the stall
// timeout, or for twice DefaultNudgeAfter if that is shorter, is abandoned,
// and its nudge counts. (The holder's renewals count as activity meanwhile,
// so the bound keeps a hung import from holding off the stall rule for
// longer than the nudges' budget.)
func (n *nudger) requestTimeout() time.Duration {
	if n.w.opts.stall > 0 {
		return n.w.opts.stall
	}
	return 2 * DefaultNudgeAfter
}
