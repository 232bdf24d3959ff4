package release

import "context"

// recordedSource hands every pull spec its source resolves to record, so
// that the step knows what its run imported without asking the source again.
type recordedSource struct {
	ReleaseSource
	record func(pullSpec string)
}

func (r *recordedSource) PullSpec(ctx context.Context) (string, error) {
	pullSpec, err := r.ReleaseSource.PullSpec(ctx)
	if err == nil {
		r.record(pullSpec)
	}
	return pullSpec, err
}

func (s *importReleaseStep) setOriginalPullSpec(pullSpec string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.originalPullSpec = pullSpec
}
