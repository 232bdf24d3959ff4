package api

import (
	"context"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Step is one unit of work in ci-operator's graph. The graph starts a step
// once every link it Requires has been Created by a step that finished.
type Step interface {
	// Inputs returns the values that identify what the step will do; ci-operator
	// hashes them into the name of the test namespace.
	Inputs() (InputDefinition, error)
	// Validate checks the step's configuration before anything runs.
	Validate() error
	// Run does the work. It must honour ctx cancellation.
	Run(ctx context.Context) error

	// Name is the step's name as ci-operator prints it, e.g. "[release:latest]".
	Name() string
	// Description is a one-line summary for people.
	Description() string
	// Requires lists the links that must exist before the step runs.
	Requires() []StepLink
	// Creates lists the links that exist once the step has run.
	Creates() []StepLink
	// Provides lists parameters (environment values) that later steps may read
	// once this step has run. The values are computed lazily.
	Provides() ParameterMap
	// Objects returns the objects the step created, for artifact gathering.
	Objects() []ctrlruntimeclient.Object
}

// InputDefinition is the list of values that identify a step's inputs.
type InputDefinition []string

// ParameterMap maps a parameter name (an environment variable name) to a
// function that yields its value once the providing step has run.
type ParameterMap map[string]func() (any, error)
