package registry

import (
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// ErrInvalidPullSpec is wrapped by every error ParsePullSpec returns, so a
// caller can tell a malformed reference (a 422 from the image API) from an
// image the registry does not have (a per-image NotFound failure).
var ErrInvalidPullSpec = pullspec.ErrInvalid

// ParsePullSpec splits a pull spec of the form host[:port]/path[:tag][@digest]
// into its repository (host included), tag and digest, with the grammar of
// pkg/pullspec: the same the import step validates its input with.
func ParsePullSpec(s string) (repo, tag, digest string, err error) {
	ref, err := pullspec.Parse(s)
	if err != nil {
		return "", "", "", err
	}
	return ref.Repository, ref.Tag, ref.Digest, nil
}
