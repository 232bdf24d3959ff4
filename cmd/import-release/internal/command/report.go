package command

import (
	"context"
	"fmt"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/diagnose"
	"github.com/ci-operator-plugins/import-release/pkg/api"
)

// Report is the summary of a run; --output=json prints it as it is.
type Report struct {
	OK        bool   `json:"ok"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Shards    int    `json:"shards"`
	// Failures says what failed, each way once: shards that failed with the
	// same error share one entry that names them.
	Failures   []string        `json:"failures,omitempty"`
	Releases   []ReleaseReport `json:"releases"`
	ShardRuns  []ShardReport   `json:"shardResults"`
	Invariants []Invariant     `json:"invariants,omitempty"`
	// BaselineWrites is what one shard alone wrote (embedded cluster,
	// --shards > 1).
	BaselineWrites *int `json:"baselineWrites,omitempty"`
	// Diagnosis is the namespace's state after a failure, with
	// --diagnose-on-failure.
	Diagnosis *diagnose.Diagnosis `json:"diagnosis,omitempty"`
}

// ReleaseReport is how one release did.
type ReleaseReport struct {
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

// ShardReport is how one shard did.
type ShardReport struct {
	Shard string `json:"shard"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Failure is the 1-based number of the shard's entry in the failures.
	Failure int     `json:"failure,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Invariant is one invariant checked on the embedded cluster.
type Invariant struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func buildReport(ctx context.Context, o *Options, env Environment, res *Run) *Report {
	rep := &Report{OK: true, Cluster: env.Describe(), Namespace: o.Namespace, Shards: o.Shards}
	if res.Baseline != nil && res.Baseline.Failed() {
		rep.fail(fmt.Sprintf("baseline (one shard in %s): %s", BaselineNamespace, shardError(ctx, res.Baseline.Shards[0].Err)))
	}
	rep.addShards(ctx, res)
	for i, name := range o.Names {
		rep.Releases = append(rep.Releases, releaseReport(ctx, env, o.Namespace, res, i, name))
	}
	if acct, ok := env.(Accountant); ok {
		acct.Account(o, res, rep)
		for _, inv := range rep.Invariants {
			if !inv.OK {
				rep.fail(fmt.Sprintf("invariant %q does not hold: %s", inv.Name, inv.Detail))
			}
		}
	}
	return rep
}

func (r *Report) fail(failure string) {
	r.OK = false
	r.Failures = append(r.Failures, failure)
}

// addShards reports every shard, and every distinct error once with the
// shards it hit.
func (r *Report) addShards(ctx context.Context, res *Run) {
	var order []string
	hit := map[string][]int{}
	for i, s := range res.Shards {
		r.ShardRuns = append(r.ShardRuns, ShardReport{Shard: s.Name, OK: s.Err == nil, Seconds: s.Duration.Seconds()})
		if s.Err == nil {
			continue
		}
		msg := shardError(ctx, s.Err)
		r.ShardRuns[i].Error = msg
		if _, seen := hit[msg]; !seen {
			order = append(order, msg)
		}
		hit[msg] = append(hit[msg], i)
	}
	for _, msg := range order {
		var names []string
		for _, i := range hit[msg] {
			names = append(names, r.ShardRuns[i].Shard)
			r.ShardRuns[i].Failure = len(r.Failures) + 1
		}
		r.fail(fmt.Sprintf("%s (%d of %d shards): %s", listed(names, 3), len(names), len(res.Shards), msg))
	}
}

// shardError is what a person reads of a shard's error: when a signal or
// --timeout stopped the run, that, not the context error it caused.
func shardError(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return context.Cause(ctx).Error()
	}
	return err.Error()
}

func releaseReport(ctx context.Context, env Environment, namespace string, res *Run, index int, name string) ReleaseReport {
	rr := ReleaseReport{Name: name, PullSpec: env.Source(name), Imports: -1, PodsCreated: -1, Writes: -1}
	for _, s := range res.Shards {
		step := s.Steps[index]
		if rr.ReleaseImage == "" && s.Err == nil {
			if v, err := step.Provides()[api.ReleaseImageEnv(name)](); err == nil {
				rr.ReleaseImage = fmt.Sprint(v)
			}
		}
		for _, st := range s.Results {
			if st.Name == step.Name() && !st.Finished.IsZero() {
				rr.WallSeconds = max(rr.WallSeconds, st.Finished.Sub(res.Start).Seconds())
			}
		}
	}
	is := &imagev1.ImageStream{}
	key := ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: api.ReleaseStreamFor(name)}
	if err := env.Client("report").Get(ctx, key, is); err == nil {
		rr.Images = len(is.Spec.Tags)
	}
	return rr
}

// listed names the first n items and counts the rest.
func listed(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
