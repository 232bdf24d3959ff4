// Package graph runs a set of api.Step the way ci-operator does. Build
// orders the steps by their links: a step depends on every step that
// Creates a link it Requires. Run starts each step as soon as all of its
// dependencies have succeeded, so independent steps run concurrently; a
// failed step fails only the steps that depend on it, and the rest of the
// graph runs to completion.
//
//	g, err := graph.Build(steps); results, err := g.Run(ctx, graph.WithObserver(printProgress))
//
// Known limits:
//   - Build reads only Requires and Creates; it calls neither Validate nor
//     Inputs, and it does not hand one step's Provides to another.
//   - A requirement that several steps create waits for all of them.
//   - Every ready step starts at once; there is no limit on concurrency.
//   - Once ctx is done no further step starts, but Run waits for the running
//     ones: a step that ignores ctx keeps Run waiting.
//   - A step that panics takes the process down, as any goroutine would.
package graph
