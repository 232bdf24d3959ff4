package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// report is the summary of a run; --output=json prints it as it is.
type report struct {
	OK         bool              `json:"ok"`
	Cluster    string            `json:"cluster"`
	Namespace  string            `json:"namespace"`
	Shards     int               `json:"shards"`
	Failures   []string          `json:"failures,omitempty"`
	Releases   []releaseReport   `json:"releases"`
	ShardRuns  []shardReport     `json:"shardResults"`
	Invariants []invariantReport `json:"invariants,omitempty"`
	// Baseline is what one shard alone wrote (embedded cluster, --shards > 1).
	BaselineWrites *int `json:"baselineWrites,omitempty"`
}

type releaseReport struct {
	Name         string `json:"name"`
	PullSpec     string `json:"pullSpec"`
	ReleaseImage string `json:"releaseImage,omitempty"`
	Images       int    `json:"images"`
	// Imports, PodsCreated and Writes are known on the embedded cluster
	// only; -1 elsewhere.
	Imports     int     `json:"imports"`
	PodsCreated int     `json:"podsCreated"`
	Writes      int     `json:"writes"`
	WallSeconds float64 `json:"wallSeconds"`
}

type shardReport struct {
	Shard   string  `json:"shard"`
	OK      bool    `json:"ok"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

type invariantReport struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func buildReport(ctx context.Context, o *options, env *environment, res runResult) *report {
	rep := &report{OK: true, Cluster: env.describe, Namespace: o.namespace, Shards: o.shards}
	if res.baselineErr != nil {
		rep.OK = false
		rep.Failures = append(rep.Failures, fmt.Sprintf("baseline (one shard in %s): %v", baselineNamespace, res.baselineErr))
	}
	for _, s := range res.shards {
		sr := shardReport{Shard: s.name, OK: s.err == nil, Seconds: s.duration.Seconds()}
		if s.err != nil {
			sr.Error = s.err.Error()
			rep.OK = false
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", s.name, s.err))
		}
		rep.ShardRuns = append(rep.ShardRuns, sr)
	}
	var stats fakeopenshift.Stats
	if env.cluster != nil {
		stats = env.cluster.Stats()
	}
	for _, name := range o.names {
		rr := releaseReport{Name: name, PullSpec: env.sources[name], Imports: -1, PodsCreated: -1, Writes: -1}
		for _, s := range res.shards {
			if img := s.images[name]; img != "" {
				rr.ReleaseImage = img
			}
			for _, st := range s.steps {
				if st.Name == fmt.Sprintf("[release:%s]", name) && !st.Finished.IsZero() {
					rr.WallSeconds = max(rr.WallSeconds, st.Finished.Sub(res.start).Seconds())
				}
			}
		}
		rr.Images = countImages(ctx, env, o.namespace, name)
		if env.cluster != nil {
			rr.Imports, rr.PodsCreated, rr.Writes = 0, 0, 0
			stream := api.ReleaseStreamFor(name)
			for k, v := range stats.Imports {
				if k.Namespace == o.namespace && (k.Stream == stream || (k.Stream == api.ReleaseImageStream && k.Tag == name)) {
					rr.Imports += v
				}
			}
			for pod, v := range stats.PodsCreated {
				if strings.HasPrefix(pod, o.namespace+"/release-images-"+name+"-") {
					rr.PodsCreated += v
				}
			}
			rr.Writes = stats.WritesBy(func(p string) bool { return strings.HasPrefix(p, "shard-") && strings.HasSuffix(p, "/"+name) })
		}
		rep.Releases = append(rep.Releases, rr)
	}
	if env.cluster != nil && !res.failed() && res.baselineErr == nil {
		rep.Invariants = checkInvariants(o, env, stats)
		for _, inv := range rep.Invariants {
			if !inv.OK {
				rep.OK = false
				rep.Failures = append(rep.Failures, fmt.Sprintf("invariant %q does not hold: %s", inv.Name, inv.Detail))
			}
		}
		if o.shards > 1 {
			base := stats.WritesBy(func(p string) bool { return strings.HasPrefix(p, "baseline-") })
			rep.BaselineWrites = &base
		}
	}
	return rep
}

// countImages reads how many tags the release's stable stream has.
func countImages(ctx context.Context, env *environment, namespace, name string) int {
	if env.releases != nil {
		return len(env.releases[name].Tags)
	}
	is := &imagev1.ImageStream{}
	if err := env.client("report").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: api.ReleaseStreamFor(name)}, is); err != nil {
		return 0
	}
	return len(is.Spec.Tags)
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
		out = append(out, requestInvariants(o.shards, stats)...)
	}
	return out
}

// followerMutatingBudget bounds the mutating requests a follower may send
// beyond the leader's: its no-op applies of the streams and the release tag,
// and the pod creates that get AlreadyExists.
const followerMutatingBudget = 8

// requestInvariants compares every mutating request the shards sent (no-op
// writes, conflicts and errors included) and the payload merge applies with
// what one shard alone sent: followers only read and watch.
func requestInvariants(shards int, stats fakeopenshift.Stats) []invariantReport {
	isBase := func(p string) bool { return strings.HasPrefix(p, "baseline-") }
	isShard := func(p string) bool { return strings.HasPrefix(p, "shard-") }
	base, got := stats.MutatingBy(isBase), stats.MutatingBy(isShard)
	limit := base + shards*followerMutatingBudget
	baseMerges := stats.AppliesBy("ImageStream", imagestreams.ManagerPayload, isBase)
	merges := stats.AppliesBy("ImageStream", imagestreams.ManagerPayload, isShard)
	_, watchBytes := stats.BytesBy(isShard)
	return []invariantReport{{
		Name: "mutating requests of N shards within one shard's + N x k", OK: got <= limit,
		Detail: fmt.Sprintf("%d shards sent %d mutating requests (no-ops and errors included); one shard alone sent %d; limit %d (k = %d)", shards, got, base, limit, followerMutatingBudget),
	}, {
		Name: "payload merge applies sent", OK: merges <= baseMerges+1,
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

func (r *report) print(stdout, stderr io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(stdout, "FAILED:")
		for _, f := range r.Failures {
			fmt.Fprintf(stdout, "  %s\n", f)
		}
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RELEASE\tIMAGES\tIMPORTS\tPODS\tWRITES\tWALL TIME\tRELEASE IMAGE\n")
	for _, rr := range r.Releases {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", rr.Name, rr.Images, known(rr.Imports), known(rr.PodsCreated), known(rr.Writes),
			seconds(rr.WallSeconds), rr.ReleaseImage)
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout)
	ok, failed := 0, 0
	var slowest float64
	for _, s := range r.ShardRuns {
		if s.OK {
			ok++
		} else {
			failed++
		}
		slowest = max(slowest, s.Seconds)
	}
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SHARD\tRESULT\tTIME\n")
	for i, s := range r.ShardRuns {
		if len(r.ShardRuns) > 8 && i >= 4 && i < len(r.ShardRuns)-2 && s.OK {
			if i == 4 {
				fmt.Fprintf(tw, "...\t\t\n")
			}
			continue
		}
		result := "ok"
		if !s.OK {
			result = "FAILED: " + s.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Shard, result, seconds(s.Seconds))
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "%d of %d shards succeeded; the slowest took %s\n", ok, ok+failed, seconds(slowest))
	if len(r.Invariants) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Invariants (embedded cluster):")
		for _, inv := range r.Invariants {
			mark := "ok  "
			if !inv.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(stdout, "  %s %s: %s\n", mark, inv.Name, inv.Detail)
		}
	}
	return nil
}

func known(n int) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(10 * time.Millisecond).String()
}
