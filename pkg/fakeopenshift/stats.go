package fakeopenshift

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Stats counts what happened on a cluster. Keys are "process verb kind" for
// requests and writes, "namespace/stream:tag" for imports.
type Stats struct {
	// Requests counts every request a client made, by process, verb and kind.
	Requests map[RequestKey]int
	// Writes counts the requests that changed the cluster's state (no-op
	// writes are not counted), by process, verb and kind.
	Writes map[RequestKey]int
	// Calls counts every request by process, verb, kind, field manager and
	// what the server did with it (see Outcome), so no-op applies, creates
	// that got AlreadyExists and 409s are visible next to the writes.
	Calls map[Call]int
	// RequestBytes is, per process, the size of the request bodies it sent
	// (objects, patches and apply configurations as JSON).
	RequestBytes map[string]int64
	// WatchEvents and WatchBytes are, per process, the watch events
	// delivered to it and their size as JSON.
	WatchEvents map[string]int
	WatchBytes  map[string]int64
	// Imports counts the imports written to a stream, successful or failed,
	// per tag; a discarded import (409) is not counted.
	Imports map[TagKey]int
	// ImportAttempts counts every import resolved against the registry,
	// written or discarded.
	ImportAttempts map[TagKey]int
	// ImportConflicts counts the controller's imports that lost to a
	// concurrent write of the stream (409) and were retried.
	ImportConflicts int
	// PodsCreated counts pod creations per pod name.
	PodsCreated map[string]int
}

// RequestKey identifies requests by who made them and what they did.
type RequestKey struct {
	Process, Verb, Kind string
}

// Outcome is what the server did with a request.
type Outcome string

const (
	// OutcomeRead is a read (get, list, watch) that was answered.
	OutcomeRead Outcome = "read"
	// OutcomeWritten is a write that changed the cluster's state.
	OutcomeWritten Outcome = "written"
	// OutcomeNoOp is a write that changed nothing: an identical apply or
	// update, an import with nothing new.
	OutcomeNoOp Outcome = "no-op"
	// OutcomeConflict is a 409 Conflict: a stale resourceVersion or UID
	// precondition, or a field-ownership conflict of an apply.
	OutcomeConflict Outcome = "conflict"
	// OutcomeAlreadyExists is a create of a name that exists.
	OutcomeAlreadyExists Outcome = "already-exists"
	// OutcomeNotFound is a 404.
	OutcomeNotFound Outcome = "not-found"
	// OutcomeError is any other error: invalid, throttled, server errors,
	// injected faults.
	OutcomeError Outcome = "error"
)

// Call identifies requests by who made them, what they asked, under which
// field manager (for writes; empty for reads) and what the server did.
type Call struct {
	Process, Verb, Kind, Manager string
	Outcome                      Outcome
}

// Mutating reports whether the call's verb asks for a change, whatever the
// outcome was.
func (c Call) Mutating() bool {
	switch c.Verb {
	case "get", "list", "watch":
		return false
	}
	return true
}

// TagKey identifies one tag of one stream.
type TagKey struct {
	Namespace, Stream, Tag string
}

func (k TagKey) String() string { return k.Namespace + "/" + k.Stream + ":" + k.Tag }

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats {
	return &stats{s: Stats{
		Requests:       map[RequestKey]int{},
		Writes:         map[RequestKey]int{},
		Calls:          map[Call]int{},
		RequestBytes:   map[string]int64{},
		WatchEvents:    map[string]int{},
		WatchBytes:     map[string]int64{},
		Imports:        map[TagKey]int{},
		ImportAttempts: map[TagKey]int{},
		PodsCreated:    map[string]int{},
	}}
}

func (s *stats) request(process, verb, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Requests[RequestKey{process, verb, kind}]++
}

func (s *stats) write(process, verb, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Writes[RequestKey{process, verb, kind}]++
}

func (s *stats) call(c Call, bodyBytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Calls[c]++
	s.s.RequestBytes[c.Process] += int64(bodyBytes)
}

func (s *stats) watchEvent(process string, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.WatchEvents[process]++
	s.s.WatchBytes[process] += int64(size)
}

func (s *stats) update(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.s)
}

// Stats returns a copy of the counters.
func (c *Cluster) Stats() Stats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := Stats{
		Requests:        copyMap(c.stats.s.Requests),
		Writes:          copyMap(c.stats.s.Writes),
		Calls:           copyMap(c.stats.s.Calls),
		RequestBytes:    copyMap(c.stats.s.RequestBytes),
		WatchEvents:     copyMap(c.stats.s.WatchEvents),
		WatchBytes:      copyMap(c.stats.s.WatchBytes),
		Imports:         copyMap(c.stats.s.Imports),
		ImportAttempts:  copyMap(c.stats.s.ImportAttempts),
		ImportConflicts: c.stats.s.ImportConflicts,
		PodsCreated:     copyMap(c.stats.s.PodsCreated),
	}
	return out
}

func copyMap[K comparable, V int | int64](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// WritesBy sums the state-changing writes of the processes for which keep
// returns true.
func (s Stats) WritesBy(keep func(process string) bool) int {
	n := 0
	for k, v := range s.Writes {
		if keep(k.Process) {
			n += v
		}
	}
	return n
}

// RequestsBy sums the requests of the processes for which keep returns true.
func (s Stats) RequestsBy(keep func(process string) bool) int {
	n := 0
	for k, v := range s.Requests {
		if keep(k.Process) {
			n += v
		}
	}
	return n
}

// CallsWhere sums the calls for which keep returns true.
func (s Stats) CallsWhere(keep func(Call) bool) int {
	n := 0
	for k, v := range s.Calls {
		if keep(k) {
			n += v
		}
	}
	return n
}

// MutatingBy sums the mutating requests (create, update, patch, apply,
// delete, whatever their outcome: no-ops and errors included) of the
// processes for which keep returns true.
func (s Stats) MutatingBy(keep func(process string) bool) int {
	return s.CallsWhere(func(c Call) bool { return c.Mutating() && keep(c.Process) })
}

// AppliesBy sums the server-side applies of kind under field manager sent
// by the processes for which keep returns true, whatever their outcome.
func (s Stats) AppliesBy(kind, manager string, keep func(process string) bool) int {
	return s.CallsWhere(func(c Call) bool {
		return (c.Verb == "apply" || c.Verb == "patch") && c.Kind == kind && c.Manager == manager && keep(c.Process)
	})
}

// BytesBy sums the request bytes and the watch bytes of the processes for
// which keep returns true.
func (s Stats) BytesBy(keep func(process string) bool) (requests, watches int64) {
	for p, v := range s.RequestBytes {
		if keep(p) {
			requests += v
		}
	}
	for p, v := range s.WatchBytes {
		if keep(p) {
			watches += v
		}
	}
	return requests, watches
}

// TotalImports sums Imports.
func (s Stats) TotalImports() int {
	n := 0
	for _, v := range s.Imports {
		n += v
	}
	return n
}

// Report renders the counters for people, one line per counter, sorted.
func (s Stats) Report() string {
	var b strings.Builder
	var lines []string
	for k, v := range s.Requests {
		lines = append(lines, fmt.Sprintf("requests %s %s %s = %d", k.Process, k.Verb, k.Kind, v))
	}
	for k, v := range s.Writes {
		lines = append(lines, fmt.Sprintf("writes %s %s %s = %d", k.Process, k.Verb, k.Kind, v))
	}
	for k, v := range s.Calls {
		if k.Mutating() {
			lines = append(lines, fmt.Sprintf("calls %s %s %s manager=%s %s = %d", k.Process, k.Verb, k.Kind, k.Manager, k.Outcome, v))
		}
	}
	for p, v := range s.RequestBytes {
		lines = append(lines, fmt.Sprintf("request-bytes %s = %d", p, v))
	}
	for p, v := range s.WatchBytes {
		lines = append(lines, fmt.Sprintf("watch-bytes %s = %d (%d events)", p, v, s.WatchEvents[p]))
	}
	for k, v := range s.Imports {
		lines = append(lines, fmt.Sprintf("imports %s = %d", k, v))
	}
	for k, v := range s.PodsCreated {
		lines = append(lines, fmt.Sprintf("pods-created %s = %d", k, v))
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "import-conflicts = %d\n", s.ImportConflicts)
	return b.String()
}
