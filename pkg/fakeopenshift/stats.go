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
		Imports:         copyMap(c.stats.s.Imports),
		ImportAttempts:  copyMap(c.stats.s.ImportAttempts),
		ImportConflicts: c.stats.s.ImportConflicts,
		PodsCreated:     copyMap(c.stats.s.PodsCreated),
	}
	return out
}

func copyMap[K comparable](m map[K]int) map[K]int {
	out := make(map[K]int, len(m))
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
