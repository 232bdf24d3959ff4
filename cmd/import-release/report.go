package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command"
	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// options are what the invariants depend on of the command line.
type options struct {
	names     []string
	namespace string
	shards    int
}

type invariantReport = command.Invariant

// Account fills in what only the embedded cluster can count: per release the
// imports, the pods created and the writes; and, when every shard
// succeeded, the invariants.
func (e *environment) Account(o *command.Options, run *command.Run, rep *command.Report) {
	stats := e.cluster.Stats()
	for i := range rep.Releases {
		rr := &rep.Releases[i]
		rr.Images = len(e.releases[rr.Name].Tags)
		stream := api.ReleaseStreamFor(rr.Name)
		rr.Imports = 0
		for k, v := range stats.Imports {
			if k.Namespace == o.Namespace && (k.Stream == stream || (k.Stream == api.ReleaseImageStream && k.Tag == rr.Name)) {
				rr.Imports += v
			}
		}
		rr.PodsCreated = 0
		for pod := range run.Pods(i) {
			rr.PodsCreated += stats.PodsCreated[pod]
		}
		processes := run.Processes(rr.Name)
		rr.Writes = stats.WritesBy(func(p string) bool { return processes[p] })
	}
	if run.Failed() || (run.Baseline != nil && run.Baseline.Failed()) {
		return
	}
	rep.Invariants = checkInvariants(&options{names: o.Names, namespace: o.Namespace, shards: o.Shards}, e, stats)
	if run.Baseline != nil {
		base := stats.WritesBy(func(p string) bool { return strings.HasPrefix(p, "baseline-") })
		rep.BaselineWrites = &base
	}
}

// checkInvariants checks, from the embedded cluster's counters, that the
// work was done once whatever the number of shards.
func checkInvariants(o *options, env *environment, stats fakeopenshift.Stats) []invariantReport {
	var out []invariantReport
	tags, once := 0, 0
	var twice []string
	for _, name := range o.names {
		stream := api.ReleaseStreamFor(name)
		keys := []fakeopenshift.TagKey{{Namespace: o.namespace, Stream: api.ReleaseImageStream, Tag: name}}
		for _, tag := range env.releases[name].Tags {
			keys = append(keys, fakeopenshift.TagKey{Namespace: o.namespace, Stream: stream, Tag: tag.Name})
		}
		for _, k := range keys {
			tags++
			if stats.Imports[k] == 1 {
				once++
			} else {
				twice = append(twice, fmt.Sprintf("%s:%s (%d)", k.Stream, k.Tag, stats.Imports[k]))
			}
		}
	}
	sort.Strings(twice)
	out = append(out, invariantReport{
		Name: "each image imported once", OK: once == tags,
		Detail: fmt.Sprintf("%d of %d tags imported exactly once%s", once, tags, listed(twice)),
	})
	pods, podsOnce := 0, 0
	var podsMore []string
	for pod, n := range stats.PodsCreated {
		if !strings.HasPrefix(pod, o.namespace+"/") {
			continue
		}
		pods++
		if n == 1 {
			podsOnce++
		} else {
			podsMore = append(podsMore, fmt.Sprintf("%s (%d)", pod, n))
		}
	}
	sort.Strings(podsMore)
	out = append(out, invariantReport{
		Name: "each pod created once", OK: pods == podsOnce && pods == 2*len(o.names),
		Detail: fmt.Sprintf("%d pods, %d created once (want %d: a CLI pod and an extract pod per release)%s", pods, podsOnce, 2*len(o.names), listed(podsMore)),
	})
	if o.shards > 1 {
		base := stats.WritesBy(func(p string) bool { return strings.HasPrefix(p, "baseline-") })
		got := stats.WritesBy(func(p string) bool { return strings.HasPrefix(p, "shard-") })
		out = append(out, invariantReport{
			Name: "writes of N shards equal one shard's", OK: base == got && base > 0,
			Detail: fmt.Sprintf("%d shards made %d state-changing writes; one shard alone made %d", o.shards, got, base),
		})
		out = append(out, requestInvariants(o.shards, len(o.names), stats)...)
	}
	return out
}

// followerMutatingBudget bounds the mutating requests a follower may send per
// release beyond the leader's: its no-op applies of the streams and tags,
// and the creates of pods and RBAC objects that get AlreadyExists.
const followerMutatingBudget = 12

// requestInvariants compares every mutating request the shards sent (no-op
// writes, conflicts and errors included) and the payload merge applies with
// what one shard alone sent: followers only read and watch.
func requestInvariants(shards, releases int, stats fakeopenshift.Stats) []invariantReport {
	isBase := func(p string) bool { return strings.HasPrefix(p, "baseline-") }
	isShard := func(p string) bool { return strings.HasPrefix(p, "shard-") }
	base, got := stats.MutatingBy(isBase), stats.MutatingBy(isShard)
	limit := base + (shards-1)*releases*followerMutatingBudget
	baseMerges := stats.AppliesBy("ImageStream", imagestreams.ManagerPayload, isBase)
	merges := stats.AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard)
	// A follower that read the stream just before the leader's merge landed
	// may send it once more per release.
	_, watchBytes := stats.BytesBy(isShard)
	return []invariantReport{{
		Name: "mutating requests of N shards within one shard's + (N-1) x k per release", OK: got <= limit,
		Detail: fmt.Sprintf("%d shards sent %d mutating requests (no-ops and errors included); one shard alone sent %d; limit %d (k = %d)", shards, got, base, limit, followerMutatingBudget),
	}, {
		Name: "payload merge applies sent", OK: merges <= baseMerges+releases,
		Detail: fmt.Sprintf("%d shards sent the payload merge %d times; one shard alone %d; watch events delivered to the shards: %d bytes", shards, merges, baseMerges, watchBytes),
	}}
}

func listed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	if len(items) > 5 {
		items = append(items[:5:5], fmt.Sprintf("and %d more", len(items)-5))
	}
	return ": " + strings.Join(items, ", ")
}
