package api

import "sync"

// Job is what the import step reads of the job it runs for: the namespace
// the job's objects live in, which ci-operator sets once it has hashed the
// inputs, so the step reads it when it runs, not when it is constructed.
// ci-operator's *api.JobSpec has this method as it is, and so has JobSpec
// here.
type Job interface {
	Namespace() string
}

// JobSpec describes the job a step runs for. Only what the import step reads
// is mirrored: the namespace the job's objects live in, which ci-operator
// sets once it has hashed the inputs.
type JobSpec struct {
	// Job is the name of the CI job, for logs.
	Job string
	// BuildID identifies one run of the job, for logs.
	BuildID string

	mu        sync.RWMutex
	namespace string
}

var _ Job = &JobSpec{}

// Namespace returns the namespace the job's objects live in.
func (s *JobSpec) Namespace() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespace
}

// SetNamespace sets the namespace the job's objects live in.
func (s *JobSpec) SetNamespace(namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespace = namespace
}
