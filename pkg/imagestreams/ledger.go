package imagestreams

import (
	"sort"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// The re-trigger record.
//
// A failed import is terminal in the import controller, and a failure that
// repeats identically writes nothing to the stream, so every process that
// waits on a stream would re-import a failed tag itself. The processes share
// instead one record per stream: a coordination.k8s.io Lease named
// RetriggerLeaseName(stream), whose holder is the one process allowed to
// re-trigger imports into that stream, and whose RetriggerLedgerAnnotation
// says, per tag, which failure episode the budget is for and how much of it
// is spent. Every write of it is a compare-and-swap (LeaseStore.Put):
//
//  1. A process that sees failed tags reads the Lease. Held by another
//     process and not expired: it waits for the Lease to change (a watch on
//     it) or to expire, while its stream watch goes on; a tag that recovers
//     ends its wait as usual.
//  2. Free or expired: it writes itself in as the holder, conditional on the
//     version read. One process lands; the others are back at 1.
//  3. The holder renews the Lease every third of its duration while it
//     works, and runs the chain: wait the backoff of the next attempt, read
//     the stream, count the attempt in the ledger (a conditional update),
//     post one ImageStreamImport of the failed tags carrying the stream's
//     resourceVersion, and again while a tag is still failed and its budget
//     lasts.
//  4. When no tag is failed it frees the Lease; when a tag's budget is spent
//     it marks the episode spent and frees the Lease in one write, and every
//     process waiting on the Lease reads the mark and fails with the same
//     error. A cancelled holder frees the Lease with a context of its own; a
//     claim write whose answer was lost is followed by a read, and freed if
//     it landed.
//
// A holder that dies holds the others up for at most the Lease duration
// (DefaultClaimDuration) after its last renewal; the next holder continues
// the episode from the attempts counted. A holder that comes back later
// finds its renewal refused (conflict), stops, and its late ImageStreamImport
// carries a resourceVersion the stream has left, so it lands nowhere.
//
// An episode is spent for the processes that were running when it was given
// up. A process that started after that (a later run in the same namespace,
// after the registry recovered) opens the next episode, once; processes that
// arrive together race to open it and exactly one lands. The comparison is
// of the holder's clock with this process's: processes whose clocks differ
// by more than the time between the give-up and a new start may open one
// episode more or fewer.

// RetriggerLedgerAnnotation holds the ledger on the re-trigger Lease.
const RetriggerLedgerAnnotation = "ci.openshift.io/import-release-ledger"

// RetriggerLeaseName is the name of the Lease of re-triggers into stream.
func RetriggerLeaseName(stream string) string {
	return "import-release-retrigger-" + stream
}

// episode is the ledger entry of one tag: the source the budget is for, the
// episode's number, the attempts counted and whether it was given up.
type episode struct {
	From     string `json:"from"`
	Number   int    `json:"episode"`
	Attempts int    `json:"attempts"`
	Spent    bool   `json:"spent,omitempty"`
	// SpentAt is when the holder gave up, by its clock.
	SpentAt time.Time `json:"spentAt,omitzero"`
}

type ledger map[string]episode

func readLedger(lease *coordinationv1.Lease) ledger {
	// A ledger that does not parse counts as empty: each process's own
	// count of attempts still bounds it.
	l := ledger{}
	ReadLeaseAnnotation(lease, RetriggerLedgerAnnotation, &l)
	return l
}

func writeLedger(lease *coordinationv1.Lease, l ledger) {
	WriteLeaseAnnotation(lease, RetriggerLedgerAnnotation, l)
}

// entry returns the tag's episode for a failure of source: a different
// source starts a new episode.
func (l ledger) entry(tag, source string) episode {
	e := l[tag]
	if e.From != source {
		e = episode{From: source, Number: e.Number + 1}
	}
	return e
}

func (e episode) spent(budget int) bool { return e.Spent || e.Attempts >= budget }

// plan is what to do about a set of failed tags.
type plan struct {
	// retry are the tags to re-trigger now; next counts the attempts.
	retry []TagState
	// exhausted are the tags whose budget is spent; next marks them.
	exhausted []TagState
	next      ledger
}

// planRetriggers decides, for the failed tags, which to re-trigger and which
// have spent their budget. arrival holds, per tag, the number of an episode
// that was spent before this process started (0: none); such an episode is
// not this process's, so it opens the next one.
func planRetriggers(l ledger, failed []TagState, budget int, arrival map[string]int, now time.Time) plan {
	p := plan{next: ledger{}}
	for tag, e := range l {
		p.next[tag] = e
	}
	for _, st := range failed {
		e := l.entry(st.Tag, st.Source)
		if e.spent(budget) && arrival[st.Tag] == e.Number && e.Number > 0 {
			e = episode{From: st.Source, Number: e.Number + 1}
		}
		if e.spent(budget) {
			if !e.Spent {
				e.Spent, e.SpentAt = true, now
			}
			p.exhausted = append(p.exhausted, st)
		} else {
			e.Attempts++
			p.retry = append(p.retry, st)
		}
		p.next[st.Tag] = e
	}
	sort.Slice(p.exhausted, func(i, j int) bool { return p.exhausted[i].Tag < p.exhausted[j].Tag })
	return p
}

// noteArrival records, for failed tags this process has not looked at
// before, the episode that was marked spent before since, when this process
// started: processes that started together share an episode however late
// each of them first looks at it, while a later run opens a new one.
func noteArrival(arrival map[string]int, l ledger, failed []TagState, since time.Time) {
	for _, st := range failed {
		if _, ok := arrival[st.Tag]; ok {
			continue
		}
		arrival[st.Tag] = 0
		if e := l[st.Tag]; e.From == st.Source && e.Spent && e.SpentAt.Before(since) {
			arrival[st.Tag] = e.Number
		}
	}
}

// spentFor returns the failed tags whose episode in l was marked spent and is
// not one this process found spent on arrival: the holder gave up on them.
// (The count of attempts alone does not say it: the last one may be under
// way.)
func spentFor(l ledger, failed []TagState, arrival map[string]int) []TagState {
	var out []TagState
	for _, st := range failed {
		e, ok := l[st.Tag]
		if ok && e.From == st.Source && e.Spent && arrival[st.Tag] != e.Number {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}

// RetriggerAnnotation is the stream annotation earlier versions of the step
// kept the ledger in; diagnostics read it in namespaces those versions left.
const RetriggerAnnotation = "ci.openshift.io/import-release-retriggers"

// RetriggerEntry is one tag's entry of the re-trigger ledger, for
// diagnostics.
type RetriggerEntry struct {
	From              string
	Episode, Attempts int
	Spent             bool
}

// ReadRetriggerLedger returns the ledger kept on a re-trigger Lease.
func ReadRetriggerLedger(lease *coordinationv1.Lease) map[string]RetriggerEntry {
	out := map[string]RetriggerEntry{}
	for tag, e := range readLedger(lease) {
		out[tag] = RetriggerEntry{From: e.From, Episode: e.Number, Attempts: e.Attempts, Spent: e.Spent}
	}
	return out
}
