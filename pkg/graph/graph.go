package graph

import (
	"fmt"
	"slices"
	"strings"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

// Graph is a set of steps ordered by the links they require and create. It
// does not change once built, so it may be Run more than once.
type Graph struct {
	nodes []node
}

// node holds a step and its edges as indexes into Graph.nodes, which keep the
// order the steps were given in, so errors and results come out in that order.
type node struct {
	step     api.Step
	parents  []int
	children []int
}

// Build orders steps into a graph. It reports every requirement no step
// creates and every cycle, aggregated into one error.
func Build(steps []api.Step) (*Graph, error) {
	g := &Graph{nodes: make([]node, len(steps))}
	created := make([][]api.StepLink, len(steps))
	for i, step := range steps {
		g.nodes[i].step = step
		created[i] = step.Creates()
	}
	var errs []error
	for i, step := range steps {
		for _, required := range step.Requires() {
			satisfied := false
			for j := range steps {
				if slices.ContainsFunc(created[j], required.SatisfiedBy) {
					satisfied = true
					g.addEdge(j, i)
				}
			}
			if !satisfied {
				errs = append(errs, fmt.Errorf("step %s cannot run: %s", step.Name(), required.UnsatisfiableError()))
			}
		}
	}
	errs = append(errs, g.cycles()...)
	if err := utilerrors.NewAggregate(errs); err != nil {
		return nil, err
	}
	return g, nil
}

// addEdge makes child depend on parent. A child that requires several links
// of one parent still gets one edge, because Run counts edges to know when a
// child is ready.
func (g *Graph) addEdge(parent, child int) {
	if slices.Contains(g.nodes[child].parents, parent) {
		return
	}
	g.nodes[child].parents = append(g.nodes[child].parents, parent)
	g.nodes[parent].children = append(g.nodes[parent].children, child)
}

// cycles reports each cycle a depth-first search closes, naming its steps in
// order, e.g. "[a] -> [b] -> [a]".
func (g *Graph) cycles() []error {
	const (
		unvisited = iota
		onStack
		visited
	)
	state := make([]int, len(g.nodes))
	var stack []int
	var errs []error
	var visit func(int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, i)
		for _, child := range g.nodes[i].children {
			switch state[child] {
			case unvisited:
				visit(child)
			case onStack:
				var names []string
				for _, j := range stack[slices.Index(stack, child):] {
					names = append(names, g.nodes[j].step.Name())
				}
				names = append(names, g.nodes[child].step.Name())
				errs = append(errs, fmt.Errorf("steps form a cycle: %s", strings.Join(names, " -> ")))
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = visited
	}
	for i := range g.nodes {
		if state[i] == unvisited {
			visit(i)
		}
	}
	return errs
}
