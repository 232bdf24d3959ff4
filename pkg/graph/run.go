package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// StepResult is what happened to one step in a run.
type StepResult struct {
	// Name is the step's Name().
	Name string
	// Started and Finished are zero for a step that never ran.
	Started, Finished time.Time
	// Err is the error the step returned or, for a skipped step, why it was
	// skipped. A step below several failed steps names the first failure Run
	// saw.
	Err error
	// Skipped is set for a step that never ran, because a dependency failed
	// or because ctx was done before it could start.
	Skipped bool
}

// EventType says what happened to a step.
type EventType string

// The events of a step: started then finished, or only skipped.
const (
	StepStarted  EventType = "started"
	StepFinished EventType = "finished"
	StepSkipped  EventType = "skipped"
)

// Event reports a step starting, finishing (Err is what it returned) or being
// skipped (Err says why).
type Event struct {
	Type EventType
	Step string
	Time time.Time
	Err  error
}

// RunOption configures Run.
type RunOption func(*runOptions)

type runOptions struct {
	observe func(Event)
}

// WithObserver calls observe for every step that starts, finishes or is
// skipped. The calls come one at a time from Run's goroutine, and a step's
// start always comes before its finish; a slow observer delays the next
// steps.
func WithObserver(observe func(Event)) RunOption {
	return func(o *runOptions) {
		if observe != nil {
			o.observe = observe
		}
	}
}

// Run runs the steps of g, each as soon as every step it depends on has
// succeeded, and returns one result per step in the order they were given to
// Build. The error aggregates every step failure and, if ctx was done before
// some steps started, ctx.Err().
func (g *Graph) Run(ctx context.Context, opts ...RunOption) ([]StepResult, error) {
	o := runOptions{observe: func(Event) {}}
	for _, opt := range opts {
		opt(&o)
	}
	r := &runner{
		graph:   g,
		observe: o.observe,
		results: make([]StepResult, len(g.nodes)),
		waiting: make([]int, len(g.nodes)),
		done:    make(chan finished, len(g.nodes)),
	}
	for i, n := range g.nodes {
		r.results[i].Name = n.step.Name()
		r.waiting[i] = len(n.parents)
	}
	for i := range g.nodes {
		if r.waiting[i] == 0 {
			r.start(ctx, i)
		}
	}
	for r.running > 0 {
		r.finish(ctx, <-r.done)
	}
	return r.results, r.err(ctx)
}

// runner is the state of one Run. Only Run's goroutine touches it; the step
// goroutines report back over done.
type runner struct {
	graph   *Graph
	observe func(Event)
	results []StepResult
	// waiting counts, per step, the dependencies that have not yet succeeded.
	waiting []int
	running int
	done    chan finished
}

type finished struct {
	step int
	err  error
	at   time.Time
}

func (r *runner) start(ctx context.Context, i int) {
	if ctx.Err() != nil {
		// Left without a result here; err reports every step ctx kept back.
		return
	}
	res := &r.results[i]
	res.Started = time.Now()
	r.observe(Event{Type: StepStarted, Step: res.Name, Time: res.Started})
	r.running++
	go func(step func(context.Context) error) {
		err := step(ctx)
		r.done <- finished{step: i, err: err, at: time.Now()}
	}(r.graph.nodes[i].step.Run)
}

func (r *runner) finish(ctx context.Context, f finished) {
	r.running--
	res := &r.results[f.step]
	res.Finished, res.Err = f.at, f.err
	r.observe(Event{Type: StepFinished, Step: res.Name, Time: f.at, Err: f.err})
	if f.err != nil {
		r.skipDependents(f.step, res.Name)
		return
	}
	for _, child := range r.graph.nodes[f.step].children {
		r.waiting[child]--
		if r.waiting[child] == 0 && !r.results[child].Skipped {
			r.start(ctx, child)
		}
	}
}

// skipDependents skips every step below i, naming the step that failed. None
// of them can have started: each waits for i to succeed.
func (r *runner) skipDependents(i int, failed string) {
	for _, child := range r.graph.nodes[i].children {
		res := &r.results[child]
		if res.Skipped {
			continue
		}
		res.Skipped = true
		res.Err = fmt.Errorf("skipped because dependency %s failed", failed)
		r.observe(Event{Type: StepSkipped, Step: res.Name, Time: time.Now(), Err: res.Err})
		r.skipDependents(child, failed)
	}
}

// err skips the steps ctx kept from starting and aggregates the failures. In
// a graph without cycles, a step that neither started nor was skipped can
// only have been kept back by ctx.
func (r *runner) err(ctx context.Context) error {
	var errs []error
	var notStarted []string
	for i := range r.results {
		res := &r.results[i]
		switch {
		case res.Started.IsZero() && !res.Skipped:
			res.Skipped = true
			res.Err = fmt.Errorf("not started: %w", ctx.Err())
			r.observe(Event{Type: StepSkipped, Step: res.Name, Time: time.Now(), Err: res.Err})
			notStarted = append(notStarted, res.Name)
		case !res.Skipped && res.Err != nil:
			errs = append(errs, fmt.Errorf("step %s failed: %w", res.Name, res.Err))
		}
	}
	if len(notStarted) > 0 {
		errs = append(errs, fmt.Errorf("run stopped before %s started: %w", strings.Join(notStarted, ", "), ctx.Err()))
	}
	return utilerrors.NewAggregate(errs)
}
