package release

import (
	"fmt"
	"os"
	"path/filepath"
)

// ArtifactName is the file, in Config.ArtifactDir, that holds the payload's
// image-references, named as ci-operator's step names it.
func ArtifactName(release string) string {
	return "release-images-" + release
}

// saveArtifact writes the payload's image-references into the artifact
// directory, when there is one. Every process of an aggregated job writes
// its own copy, whichever of them ran the extract pod. The file is written
// under a temporary name and renamed, so a reader never sees part of it.
func (s *importReleaseStep) saveArtifact(references string) error {
	dir := s.config.ArtifactDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("could not create the artifact directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+ArtifactName(s.config.Name)+"-*")
	if err != nil {
		return fmt.Errorf("could not create an artifact in %s: %w", dir, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(references); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("could not write artifact %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("could not write artifact %s: %w", tmp.Name(), err)
	}
	target := filepath.Join(dir, ArtifactName(s.config.Name))
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("could not write artifact %s: %w", target, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("could not write artifact %s: %w", target, err)
	}
	return nil
}
