package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

// waitTimeout bounds every wait in these tests, so that a step waiting for
// something that never happens fails the test instead of hanging it.
const waitTimeout = 5 * time.Second

type fakeStep struct {
	name     string
	requires []api.StepLink
	creates  []api.StepLink
	run      func(context.Context) error
}

var _ api.Step = &fakeStep{}

func (s *fakeStep) Inputs() (api.InputDefinition, error) { return nil, nil }
func (s *fakeStep) Validate() error                      { return nil }
func (s *fakeStep) Name() string                         { return s.name }
func (s *fakeStep) Description() string                  { return "fake step " + s.name }
func (s *fakeStep) Requires() []api.StepLink             { return s.requires }
func (s *fakeStep) Creates() []api.StepLink              { return s.creates }
func (s *fakeStep) Provides() api.ParameterMap           { return nil }
func (s *fakeStep) Objects() []ctrlruntimeclient.Object  { return nil }

func (s *fakeStep) Run(ctx context.Context) error {
	if s.run == nil {
		return nil
	}
	return s.run(ctx)
}

// streams returns one image stream link per name.
func streams(names ...string) []api.StepLink {
	var links []api.StepLink
	for _, name := range names {
		links = append(links, api.ImageStreamLink(name))
	}
	return links
}

func TestBuild(t *testing.T) {
	testCases := []struct {
		name        string
		steps       []api.Step
		wantParents map[string][]string
		wantErr     string
	}{
		{
			name: "diamond",
			steps: []api.Step{
				&fakeStep{name: "[a]", creates: streams("a")},
				&fakeStep{name: "[b]", requires: streams("a"), creates: streams("b")},
				&fakeStep{name: "[c]", requires: streams("a"), creates: streams("c")},
				&fakeStep{name: "[d]", requires: streams("b", "c")},
			},
			wantParents: map[string][]string{"[a]": nil, "[b]": {"[a]"}, "[c]": {"[a]"}, "[d]": {"[b]", "[c]"}},
		},
		{
			name: "a link two steps create makes both parents, once each",
			steps: []api.Step{
				&fakeStep{name: "[a]", creates: streams("x")},
				&fakeStep{name: "[b]", creates: streams("x", "y")},
				&fakeStep{name: "[c]", requires: streams("x", "y", "x")},
			},
			wantParents: map[string][]string{"[a]": nil, "[b]": nil, "[c]": {"[a]", "[b]"}},
		},
		{
			name: "missing link names the step and the link",
			steps: []api.Step{
				&fakeStep{name: "[release-inputs]", creates: streams(api.ReleaseImageStream)},
				&fakeStep{name: "[images]", requires: []api.StepLink{api.ReleasePayloadImageLink(api.LatestReleaseName)}},
			},
			wantErr: "step [images] cannot run: no step creates the image stream tag release:latest",
		},
		{
			name: "every missing link is reported",
			steps: []api.Step{
				&fakeStep{name: "[a]", requires: streams("x")},
				&fakeStep{name: "[b]", requires: []api.StepLink{api.ImagesReadyLink()}},
			},
			wantErr: `[step [a] cannot run: no step creates the image stream "x", step [b] cannot run: no step makes the job's images ready]`,
		},
		{
			name: "cycle names its steps",
			steps: []api.Step{
				&fakeStep{name: "[root]", creates: streams("root")},
				&fakeStep{name: "[a]", requires: streams("root", "c"), creates: streams("a")},
				&fakeStep{name: "[b]", requires: streams("a"), creates: streams("b")},
				&fakeStep{name: "[c]", requires: streams("b"), creates: streams("c")},
			},
			wantErr: "steps form a cycle: [a] -> [b] -> [c] -> [a]",
		},
		{
			name: "a step requiring what it creates is a cycle",
			steps: []api.Step{
				&fakeStep{name: "[a]", requires: streams("a"), creates: streams("a")},
			},
			wantErr: "steps form a cycle: [a] -> [a]",
		},
		{
			name: "missing links and cycles are aggregated",
			steps: []api.Step{
				&fakeStep{name: "[a]", requires: streams("b"), creates: streams("a")},
				&fakeStep{name: "[b]", requires: streams("a", "x"), creates: streams("b")},
			},
			wantErr: `[step [b] cannot run: no step creates the image stream "x", steps form a cycle: [a] -> [b] -> [a]]`,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Build(tc.steps)
			var gotErr string
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Fatalf("Build() error differs (-want +got):\n%s", diff)
			}
			if err != nil {
				if g != nil {
					t.Errorf("Build() returned a graph with an error")
				}
				return
			}
			gotParents := map[string][]string{}
			for _, n := range g.nodes {
				var names []string
				for _, p := range n.parents {
					names = append(names, g.nodes[p].step.Name())
				}
				gotParents[n.step.Name()] = names
			}
			if diff := cmp.Diff(tc.wantParents, gotParents); diff != "" {
				t.Errorf("parents differ (-want +got):\n%s", diff)
			}
		})
	}
}

// spec describes a fake step for the run tests. The step "x" is named "[x]",
// creates the stream x and requires the streams of the steps it names.
type spec struct {
	name     string
	requires []string
	// waitForStart and waitForEnd name steps that must have started, or
	// returned, before this step returns; waiting longer than waitTimeout is
	// an error.
	waitForStart, waitForEnd []string
	// hold delays the step's return, to give a scheduler that starts children
	// too early a chance to show it.
	hold time.Duration
	err  error
	// run, if set, replaces the waits and err above.
	run func(context.Context) error
}

// recorder logs when the steps start and end, and lets steps wait for each
// other.
type recorder struct {
	mu             sync.Mutex
	log            []string
	started, ended map[string]chan struct{}
}

func newRecorder(t *testing.T, specs []spec) (*recorder, *Graph) {
	t.Helper()
	r := &recorder{started: map[string]chan struct{}{}, ended: map[string]chan struct{}{}}
	var steps []api.Step
	for _, s := range specs {
		r.started[s.name] = make(chan struct{})
		r.ended[s.name] = make(chan struct{})
		steps = append(steps, &fakeStep{
			name:     "[" + s.name + "]",
			requires: streams(s.requires...),
			creates:  streams(s.name),
			run:      r.stepRun(s),
		})
	}
	g, err := Build(steps)
	if err != nil {
		t.Fatalf("Build() failed: %v", err)
	}
	return r, g
}

func (r *recorder) stepRun(s spec) func(context.Context) error {
	return func(ctx context.Context) error {
		r.record("start " + s.name)
		close(r.started[s.name])
		defer func() {
			r.record("end " + s.name)
			close(r.ended[s.name])
		}()
		if s.run != nil {
			return s.run(ctx)
		}
		if err := await(ctx, r.started, s.waitForStart, "started"); err != nil {
			return err
		}
		if err := await(ctx, r.ended, s.waitForEnd, "returned"); err != nil {
			return err
		}
		time.Sleep(s.hold)
		return s.err
	}
}

func await(ctx context.Context, events map[string]chan struct{}, names []string, what string) error {
	for _, name := range names {
		select {
		case <-events[name]:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(waitTimeout):
			return fmt.Errorf("step %s has not %s after %s", name, what, waitTimeout)
		}
	}
	return nil
}

func (r *recorder) record(entry string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, entry)
}

// entries returns a copy of the log.
func (r *recorder) entries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// ran lists, sorted, the steps that started; a step listed twice ran twice.
func (r *recorder) ran() []string {
	var names []string
	for _, entry := range r.entries() {
		if name, ok := strings.CutPrefix(entry, "start "); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// runAndCheck runs g and checks what holds for every run: one result per
// step, and the observer saw each step start then finish, or be skipped, at
// the times and with the errors of its result. It may be called from any
// goroutine.
func runAndCheck(t *testing.T, ctx context.Context, g *Graph) ([]StepResult, error) {
	// The observer is called from Run's goroutine only, so it needs no lock;
	// the race detector tells if that is not so.
	events := map[string][]Event{}
	results, err := g.Run(ctx, WithObserver(func(e Event) {
		events[e.Step] = append(events[e.Step], e)
	}))
	if len(results) != len(g.nodes) {
		t.Errorf("Run() returned %d results for %d steps", len(results), len(g.nodes))
		return results, err
	}
	for i, res := range results {
		if want := g.nodes[i].step.Name(); res.Name != want {
			t.Errorf("result %d is for %s, want %s", i, res.Name, want)
		}
		var want []Event
		switch {
		case res.Skipped:
			if !res.Started.IsZero() || !res.Finished.IsZero() || res.Err == nil {
				t.Errorf("step %s was skipped but has times or no error: %+v", res.Name, res)
			}
			want = []Event{{Type: StepSkipped, Step: res.Name, Err: res.Err}}
		case res.Started.IsZero() || res.Finished.Before(res.Started):
			t.Errorf("step %s was neither skipped nor run in order: %+v", res.Name, res)
		default:
			want = []Event{
				{Type: StepStarted, Step: res.Name, Time: res.Started},
				{Type: StepFinished, Step: res.Name, Time: res.Finished, Err: res.Err},
			}
		}
		got := events[res.Name]
		if res.Skipped && len(got) == 1 {
			// A skip has no time in the result to compare with.
			got[0].Time = time.Time{}
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("events of step %s differ (-want +got):\n%s", res.Name, diff)
		}
	}
	return results, err
}

type outcome struct {
	Name    string
	Ran     bool
	Skipped bool
	Err     string
}

func outcomes(results []StepResult) []outcome {
	var out []outcome
	for _, res := range results {
		o := outcome{Name: res.Name, Ran: !res.Started.IsZero(), Skipped: res.Skipped}
		if res.Err != nil {
			o.Err = res.Err.Error()
		}
		out = append(out, o)
	}
	return out
}

// ran lists, sorted, the steps of outcomes that ran, by the names of their
// specs.
func ran(outcomes []outcome) []string {
	var names []string
	for _, o := range outcomes {
		if o.Ran {
			names = append(names, strings.Trim(o.Name, "[]"))
		}
	}
	slices.Sort(names)
	return names
}

func TestRunOrder(t *testing.T) {
	testCases := []struct {
		name  string
		specs []spec
	}{
		{
			name:  "chain",
			specs: []spec{{name: "a"}, {name: "b", requires: []string{"a"}}, {name: "c", requires: []string{"b"}}},
		},
		{
			name: "diamond",
			specs: []spec{
				{name: "a"},
				{name: "b", requires: []string{"a"}},
				{name: "c", requires: []string{"a"}, hold: 5 * time.Millisecond},
				{name: "d", requires: []string{"b", "c"}},
			},
		},
		{
			name: "fan-in of roots that finish at different times",
			specs: []spec{
				{name: "a"},
				{name: "b", hold: 5 * time.Millisecond},
				{name: "c", hold: 10 * time.Millisecond},
				{name: "d", requires: []string{"a", "b", "c"}},
				{name: "e", requires: []string{"d", "a"}},
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.specs {
				// Every step takes a moment, so that a child started too
				// early is caught before its parent ends.
				tc.specs[i].hold += time.Millisecond
			}
			rec, g := newRecorder(t, tc.specs)
			results, err := runAndCheck(t, t.Context(), g)
			if err != nil {
				t.Fatalf("Run() failed: %v", err)
			}
			var all []string
			for _, s := range tc.specs {
				all = append(all, s.name)
			}
			slices.Sort(all)
			if diff := cmp.Diff(all, rec.ran()); diff != "" {
				t.Errorf("steps that ran differ (-want +got):\n%s", diff)
			}
			log := rec.entries()
			for i, s := range tc.specs {
				for _, parent := range s.requires {
					j := slices.IndexFunc(tc.specs, func(p spec) bool { return p.name == parent })
					if slices.Index(log, "end "+parent) > slices.Index(log, "start "+s.name) {
						t.Errorf("step %s started before its parent %s ended: %v", s.name, parent, log)
					}
					if results[i].Started.Before(results[j].Finished) {
						t.Errorf("step %s started at %s, before its parent %s finished at %s", s.name, results[i].Started, parent, results[j].Finished)
					}
				}
			}
		})
	}
}

func TestRunConcurrency(t *testing.T) {
	// Each step in overlap waits until the others of its pair have started:
	// were they run one after the other, the first would time out and fail.
	testCases := []struct {
		name    string
		specs   []spec
		overlap [][2]string
	}{
		{
			name: "independent roots",
			specs: []spec{
				{name: "a", waitForStart: []string{"b"}},
				{name: "b", waitForStart: []string{"a"}},
				{name: "c", requires: []string{"a", "b"}},
			},
			overlap: [][2]string{{"a", "b"}},
		},
		{
			name: "siblings once their parent succeeded",
			specs: []spec{
				{name: "p"},
				{name: "x", requires: []string{"p"}, waitForStart: []string{"y", "z"}},
				{name: "y", requires: []string{"p"}, waitForStart: []string{"x", "z"}},
				{name: "z", requires: []string{"p"}, waitForStart: []string{"x", "y"}},
			},
			overlap: [][2]string{{"x", "y"}, {"x", "z"}, {"y", "z"}},
		},
		{
			name: "a child of one branch while another branch runs",
			specs: []spec{
				{name: "a"},
				{name: "b", requires: []string{"a"}},
				{name: "slow", waitForEnd: []string{"b"}},
			},
			overlap: [][2]string{{"b", "slow"}},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, g := newRecorder(t, tc.specs)
			results, err := runAndCheck(t, t.Context(), g)
			if err != nil {
				t.Fatalf("Run() failed: %v", err)
			}
			if got := len(rec.ran()); got != len(tc.specs) {
				t.Errorf("%d steps ran, want %d", got, len(tc.specs))
			}
			byName := map[string]StepResult{}
			for _, res := range results {
				byName[res.Name] = res
			}
			for _, pair := range tc.overlap {
				a, b := byName["["+pair[0]+"]"], byName["["+pair[1]+"]"]
				if !a.Started.Before(b.Finished) || !b.Started.Before(a.Finished) {
					t.Errorf("steps %s (%s to %s) and %s (%s to %s) did not overlap", pair[0], a.Started, a.Finished, pair[1], b.Started, b.Finished)
				}
			}
		})
	}
}

func TestRunFailure(t *testing.T) {
	testCases := []struct {
		name    string
		specs   []spec
		want    []outcome
		wantErr string
	}{
		{
			name: "failed root skips its chain, independent branch finishes",
			specs: []spec{
				{name: "a", err: errors.New("boom")},
				{name: "b", requires: []string{"a"}},
				{name: "c", requires: []string{"b"}},
				{name: "d", waitForEnd: []string{"a"}},
				{name: "e", requires: []string{"d"}},
			},
			want: []outcome{
				{Name: "[a]", Ran: true, Err: "boom"},
				{Name: "[b]", Skipped: true, Err: "skipped because dependency [a] failed"},
				{Name: "[c]", Skipped: true, Err: "skipped because dependency [a] failed"},
				{Name: "[d]", Ran: true},
				{Name: "[e]", Ran: true},
			},
			wantErr: "step [a] failed: boom",
		},
		{
			name: "failures are aggregated",
			specs: []spec{
				{name: "a", err: errors.New("a broke")},
				{name: "b", err: errors.New("b broke")},
				{name: "c", requires: []string{"a"}},
				{name: "d", requires: []string{"b"}},
			},
			want: []outcome{
				{Name: "[a]", Ran: true, Err: "a broke"},
				{Name: "[b]", Ran: true, Err: "b broke"},
				{Name: "[c]", Skipped: true, Err: "skipped because dependency [a] failed"},
				{Name: "[d]", Skipped: true, Err: "skipped because dependency [b] failed"},
			},
			wantErr: "[step [a] failed: a broke, step [b] failed: b broke]",
		},
		{
			name: "diamond with a failing side",
			specs: []spec{
				{name: "a"},
				{name: "b", requires: []string{"a"}, err: errors.New("boom")},
				{name: "c", requires: []string{"a"}, waitForEnd: []string{"b"}},
				{name: "d", requires: []string{"b", "c"}},
			},
			want: []outcome{
				{Name: "[a]", Ran: true},
				{Name: "[b]", Ran: true, Err: "boom"},
				{Name: "[c]", Ran: true},
				{Name: "[d]", Skipped: true, Err: "skipped because dependency [b] failed"},
			},
			wantErr: "step [b] failed: boom",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, g := newRecorder(t, tc.specs)
			results, err := runAndCheck(t, t.Context(), g)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Run() error = %v, want %s", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, outcomes(results)); diff != "" {
				t.Errorf("outcomes differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(ran(tc.want), rec.ran()); diff != "" {
				t.Errorf("steps that ran differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunCancel(t *testing.T) {
	untilCancelled := func(err func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return err(ctx)
			case <-time.After(waitTimeout):
				return errors.New("not cancelled")
			}
		}
	}
	testCases := []struct {
		name string
		// cancelAfter names the steps that must have started before the
		// test cancels; none means cancel before Run.
		cancelAfter []string
		specs       []spec
		want        []outcome
		wantErr     string
	}{
		{
			name:        "cancelled while steps run",
			cancelAfter: []string{"a", "x"},
			specs: []spec{
				{name: "a", run: untilCancelled(context.Cause)},
				{name: "b", requires: []string{"a"}},
				{name: "x", run: untilCancelled(func(context.Context) error { return nil })},
				{name: "y", requires: []string{"x"}},
			},
			want: []outcome{
				{Name: "[a]", Ran: true, Err: "context canceled"},
				{Name: "[b]", Skipped: true, Err: "skipped because dependency [a] failed"},
				{Name: "[x]", Ran: true},
				{Name: "[y]", Skipped: true, Err: "not started: context canceled"},
			},
			wantErr: "[step [a] failed: context canceled, run stopped before [y] started: context canceled]",
		},
		{
			name:  "cancelled before Run",
			specs: []spec{{name: "a"}, {name: "b", requires: []string{"a"}}},
			want: []outcome{
				{Name: "[a]", Skipped: true, Err: "not started: context canceled"},
				{Name: "[b]", Skipped: true, Err: "not started: context canceled"},
			},
			wantErr: "run stopped before [a], [b] started: context canceled",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, g := newRecorder(t, tc.specs)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if len(tc.cancelAfter) == 0 {
				cancel()
			}
			type runResult struct {
				results []StepResult
				err     error
			}
			done := make(chan runResult, 1)
			go func() {
				results, err := runAndCheck(t, ctx, g)
				done <- runResult{results, err}
			}()
			if err := await(t.Context(), rec.started, tc.cancelAfter, "started"); err != nil {
				t.Fatal(err)
			}
			cancel()
			var got runResult
			select {
			case got = <-done:
			case <-time.After(waitTimeout):
				t.Fatalf("Run() did not return within %s of the cancel", waitTimeout)
			}
			if !errors.Is(got.err, context.Canceled) {
				t.Errorf("Run() error = %v, want one that is context.Canceled", got.err)
			}
			if got.err == nil || got.err.Error() != tc.wantErr {
				t.Errorf("Run() error = %v, want %s", got.err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, outcomes(got.results)); diff != "" {
				t.Errorf("outcomes differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(ran(tc.want), rec.ran()); diff != "" {
				t.Errorf("steps that ran differ (-want +got):\n%s", diff)
			}
		})
	}
}
