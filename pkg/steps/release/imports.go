package release

import (
	"context"

	imagev1 "github.com/openshift/api/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

func (s *importReleaseStep) waitForImports(ctx context.Context, namespace, stream string, tags []string, stage Stage) (*imagev1.ImageStream, error) {
	log := s.log.WithField("imageStream", stream)
	last := -1
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	return imagestreams.WaitForImports(ctx, s.client, namespace, stream, tags,
		imagestreams.WithReferencePolicy(s.config.ReferencePolicy),
		imagestreams.WithRetries(s.config.ImportRetries),
		imagestreams.WithRetryDelay(s.config.RetryDelay),
		imagestreams.WithStallTimeout(s.config.ImportStallTimeout),
		imagestreams.WithClaimDuration(s.config.ClaimDuration),
		imagestreams.WithStart(started),
		imagestreams.WithRetriggerObserver(func(tags []string) {
			log.WithField("tags", tags).Info("Re-triggering failed imports")
			s.observe(Progress{Stage: stage, Retriggered: tags})
		}),
		imagestreams.WithNudgeObserver(func(tags []string) {
			log.WithField("tags", tags).Info("Importing tags left pending")
		}),
		imagestreams.WithProgress(func(p imagestreams.Progress) {
			if p.Imported != last {
				last = p.Imported
				if len(tags) > 1 {
					log.Infof("Imported %d/%d images into %s", p.Imported, p.Total, stream)
				}
			}
			for _, f := range p.Failed {
				log.WithField("tag", f.Tag).Warnf("Import failed: %s: %s", f.Reason, f.Message)
			}
			s.observe(Progress{Stage: stage, Imported: p.Imported, Total: p.Total})
		}))
}
