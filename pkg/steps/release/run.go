package release

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// run is the story of an import; each stage lives in the file about it:
// the release name's payload record (owner.go), the payload into
// release:<name> (payload_import.go), the CLI image (cli.go), the image
// references (extract.go), the merge into the stable stream (merge.go) and
// the wait for its images (imports.go).
func (s *importReleaseStep) run(ctx context.Context) error {
	s.mu.Lock()
	s.started = time.Now()
	s.mu.Unlock()
	source, err := s.checkInput(ctx)
	if err != nil {
		return err
	}
	namespace, name := s.jobSpec.Namespace(), s.config.Name
	stable := api.ReleaseStreamFor(name)
	log := s.log.WithField("pullSpec", source)
	log.Infof("Importing release %s into %s/%s", name, namespace, stable)

	// Ends after the claim's renewals (defers run last to first).
	defer s.client.begin(ctx,
		watchKey{kind: "ImageStream", NamespacedName: types.NamespacedName{Namespace: namespace, Name: api.ReleaseImageStream}},
		watchKey{kind: "ImageStream", NamespacedName: types.NamespacedName{Namespace: namespace, Name: stable}},
		watchKey{kind: "Lease", NamespacedName: types.NamespacedName{Namespace: namespace, Name: PayloadLeaseName(name)}},
	)()
	claim, err := s.claimPayload(ctx, namespace, source)
	if err != nil {
		return err
	}
	defer claim.stop()
	releaseIS, payload, err := s.importPayload(ctx, namespace, stable, source)
	if err != nil {
		return err
	}
	cli, err := s.resolveCLI(ctx, namespace, stable, payload, claim)
	if err != nil {
		return fmt.Errorf("could not find the CLI image of release %s: %w", name, err)
	}
	references, merger, marked, err := s.extract(ctx, namespace, cli, payload, claim)
	if err != nil {
		return fmt.Errorf("could not read the image references of release %s: %w", name, err)
	}
	tags, err := s.merge(ctx, namespace, stable, payload, references, claim, marked)
	if err != nil {
		return err
	}
	stableIS, err := s.waitForImports(ctx, namespace, stable, tags, "images")
	if err != nil {
		return fmt.Errorf("could not import the images of release %s: %w", name, err)
	}
	s.record("ImageStream", stableIS)
	if err := s.finish(ctx, claim, merger, releaseIS, source, payload, len(tags)); err != nil {
		return err
	}
	log.Infof("Imported release %s: %d images in %s", name, len(tags), stable)
	return nil
}

// checkInput validates the configuration and the pull specs before anything
// is written, and returns the payload's pull spec.
func (s *importReleaseStep) checkInput(ctx context.Context) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	if s.jobSpec.Namespace() == "" {
		return "", fmt.Errorf("the job has no namespace")
	}
	source, err := s.config.Source.PullSpec(ctx)
	if err != nil {
		return "", err
	}
	if _, err := pullspec.Parse(source); err != nil {
		return "", fmt.Errorf("release %s: %w", s.config.Name, err)
	}
	if s.config.OverrideCLIImage != "" {
		if _, err := pullspec.Parse(s.config.OverrideCLIImage); err != nil {
			return "", fmt.Errorf("release %s: override CLI image: %w", s.config.Name, err)
		}
	}
	return source, nil
}
