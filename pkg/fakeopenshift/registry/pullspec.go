package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrInvalidPullSpec is wrapped by every error ParsePullSpec returns, so a
// caller can tell a malformed reference (a 422 from the image API) from an
// image the registry does not have (a per-image NotFound failure).
var ErrInvalidPullSpec = errors.New("invalid pull spec")

// The grammar is the distribution reference grammar, narrowed to what the
// fake needs: the registry host is required and only sha256 digests exist.
var (
	hostPattern      = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`)
	componentPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$`)
	digestPattern    = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// maxRepoLength is the distribution limit on a repository name, host included.
const maxRepoLength = 255

// ParsePullSpec splits a pull spec of the form host[:port]/path[:tag][@digest]
// into its repository (host included), tag and digest. Either tag or digest
// may be empty; when both are present the digest identifies the image. The
// host must look like one (contain a dot or a port, or be localhost), path
// components must be lower case, and the digest must be sha256 with 64
// lower-case hex digits.
func ParsePullSpec(s string) (repo, tag, digest string, err error) {
	invalid := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidPullSpec, s, why)
	}
	if s == "" {
		return "", "", "", invalid("empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", "", "", invalid("contains whitespace or control characters")
	}

	name := s
	if i := strings.Index(name, "@"); i >= 0 {
		name, digest = name[:i], name[i+1:]
		if !digestPattern.MatchString(digest) {
			return "", "", "", invalid("digest must be sha256: followed by 64 lower-case hex digits")
		}
	}
	// A colon after the last slash starts the tag; one before it is a port.
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
		if !tagPattern.MatchString(tag) {
			return "", "", "", invalid(fmt.Sprintf("invalid tag %q", tag))
		}
	}

	host, path, ok := strings.Cut(name, "/")
	if !ok || !isHost(host) {
		return "", "", "", invalid("want host[:port]/path with a registry host such as quay.io or localhost:5000")
	}
	for component := range strings.SplitSeq(path, "/") {
		if !componentPattern.MatchString(component) {
			if strings.ToLower(component) != component {
				return "", "", "", invalid(fmt.Sprintf("repository path component %q has upper-case letters", component))
			}
			return "", "", "", invalid(fmt.Sprintf("invalid repository path component %q", component))
		}
	}
	if len(name) > maxRepoLength {
		return "", "", "", invalid(fmt.Sprintf("repository longer than %d characters", maxRepoLength))
	}
	return name, tag, digest, nil
}

// isHost tells a registry host from the first path component of a short
// name the way container tools do: a dot, a port or "localhost".
func isHost(s string) bool {
	if !hostPattern.MatchString(s) {
		return false
	}
	return strings.ContainsAny(s, ".:") || s == "localhost"
}
