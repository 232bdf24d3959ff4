package release

import (
	"context"
	"fmt"
	"sync"

	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// ReleaseSource says where a release payload comes from.
type ReleaseSource interface {
	// Input returns a value that identifies the source, for hashing into the
	// job's namespace.
	Input(ctx context.Context) (string, error)
	// PullSpec returns the payload's pull spec. It is resolved once and the
	// same value is returned afterwards.
	PullSpec(ctx context.Context) (string, error)
}

// NewFixedSource returns a source for a payload known by pull spec.
func NewFixedSource(pullSpec string) ReleaseSource {
	return &cachedSource{resolve: func(context.Context) (string, error) { return pullSpec, nil }, input: pullSpec}
}

// NewResolvingSource returns a source whose pull spec is found by resolve
// (e.g. by asking a release controller for the newest accepted payload); it
// is called until it succeeds once, and its answer is kept, so every later
// caller imports the same payload.
func NewResolvingSource(input string, resolve func(ctx context.Context) (string, error)) ReleaseSource {
	return &cachedSource{resolve: resolve, input: input}
}

type cachedSource struct {
	input   string
	resolve func(ctx context.Context) (string, error)

	mu       sync.Mutex
	pullSpec string
}

func (s *cachedSource) Input(context.Context) (string, error) { return s.input, nil }

func (s *cachedSource) PullSpec(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pullSpec != "" {
		return s.pullSpec, nil
	}
	ps, err := s.resolve(ctx)
	if err != nil {
		return "", fmt.Errorf("could not resolve the release pull spec from %s: %w", s.input, err)
	}
	if _, err := pullspec.Parse(ps); err != nil {
		return "", fmt.Errorf("release source %s: %w", s.input, err)
	}
	s.pullSpec = ps
	return ps, nil
}
