// Package pullspec parses and validates container image pull specs of the
// form host[:port]/path[:tag][@sha256:digest], as the image API accepts them
// in a DockerImage reference.
//
//	ref, err := pullspec.Parse("quay.io/openshift-release-dev/ocp-release:4.18.0-x86_64")
//
// It is the distribution reference grammar narrowed to what release payloads
// use: the registry host is required and only sha256 digests are accepted.
//
// Why not github.com/distribution/reference, the grammar's reference
// implementation: it is not in this module's graph (neither it nor
// github.com/opencontainers/go-digest, which it needs, is vendored), and
// using it would take as much code as this parser. Its ParseNormalizedNamed
// turns a host-less name into docker.io/library/..., and ParseNamed refuses
// it only as "not canonical"; the step must reject it, since the image API
// stores from.name as written and ci-operator's payloads always name their
// registry. It accepts every registered digest algorithm, where the image API
// and the step's content-addressed names take sha256 only. And its errors
// ("invalid reference format") do not say which part of a pull spec in a CI
// configuration is wrong; these do. The matchers below accept exactly what
// the grammar's patterns accept (a test checks them against those regular
// expressions), so a pull spec valid here is valid there.
package pullspec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid pull spec")

// The grammar's patterns for hosts, tags, digests and path components are
// matched by hand (validHost, validTag, validDigest, validComponent): a
// payload's image-references holds thousands of pull specs, and the regexp
// engine took most of the time of reading them.
// TestMatchersAgreeWithTheGrammar checks them against the grammar's regular
// expressions.

// maxRepoLength is the distribution limit on a repository name, host included.
const maxRepoLength = 255

// Reference is a parsed pull spec.
type Reference struct {
	// Repository is host[:port]/path.
	Repository string
	// Tag and Digest may each be empty.
	Tag, Digest string
}

// String returns the pull spec: by digest when there is one.
func (r Reference) String() string {
	switch {
	case r.Digest != "":
		return r.Repository + "@" + r.Digest
	case r.Tag != "":
		return r.Repository + ":" + r.Tag
	}
	return r.Repository
}

// Parse splits a pull spec into repository, tag and digest. Either tag or
// digest may be empty (neither means the tag "latest" to a container
// runtime); when both are present the digest identifies the image. The host
// must look like one (contain a dot or a port, or be localhost), path
// components must be lower case, and a digest must be sha256 with 64
// lower-case hex digits.
func Parse(s string) (Reference, error) {
	invalid := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalid, s, why)
	}
	if s == "" {
		return Reference{}, invalid("empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return Reference{}, invalid("contains whitespace or control characters")
	}
	var ref Reference
	name := s
	if i := strings.Index(name, "@"); i >= 0 {
		name, ref.Digest = name[:i], name[i+1:]
		if !validDigest(ref.Digest) {
			return Reference{}, invalid("digest must be sha256: followed by 64 lower-case hex digits")
		}
	}
	// A colon after the last slash starts the tag; one before it is a port.
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, ref.Tag = name[:i], name[i+1:]
		if !validTag(ref.Tag) {
			return Reference{}, invalid(fmt.Sprintf("invalid tag %q", ref.Tag))
		}
	}
	host, path, ok := strings.Cut(name, "/")
	if !ok || !isHost(host) {
		return Reference{}, invalid("want host[:port]/path with a registry host such as quay.io or localhost:5000")
	}
	for component := range strings.SplitSeq(path, "/") {
		if !validComponent(component) {
			if strings.ToLower(component) != component {
				return Reference{}, invalid(fmt.Sprintf("repository path component %q has upper-case letters", component))
			}
			return Reference{}, invalid(fmt.Sprintf("invalid repository path component %q", component))
		}
	}
	if len(name) > maxRepoLength {
		return Reference{}, invalid(fmt.Sprintf("repository longer than %d characters", maxRepoLength))
	}
	ref.Repository = name
	return ref, nil
}

// isHost tells a registry host from the first path component of a short
// name the way container tools do: a dot, a port or "localhost".
func isHost(s string) bool {
	if !validHost(s) {
		return false
	}
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// ValidTag reports whether s is a valid image tag (and so a valid image
// stream tag name): up to 128 letters, digits, '_', '.' and '-', not
// starting with '.' or '-'.
func ValidTag(s string) bool {
	return validTag(s)
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

// validTag matches [a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}.
func validTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || !isAlnum(s[0]) && s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validHost matches a host name of dot-separated labels of letters, digits
// and inner '-', with an optional :port:
// [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.<the same>)*(:[0-9]+)?.
func validHost(s string) bool {
	if name, port, ok := strings.Cut(s, ":"); ok {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
		s = name
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// validDigest matches sha256:[a-f0-9]{64}.
func validDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := range len(hex) {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validComponent matches [a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*: runs of
// lower-case letters and digits joined by one '.', one or two '_', or any
// number of '-'.
func validComponent(s string) bool {
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && isLowerAlnum(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator first, or two in a row
		}
		if i == len(s) {
			return true
		}
		sep := i
		for i < len(s) && !isLowerAlnum(s[i]) {
			i++
		}
		if i == len(s) || !validSeparator(s[sep:i]) {
			return false
		}
	}
	return false
}

func validSeparator(s string) bool {
	switch s {
	case ".", "_", "__":
		return true
	}
	return strings.Trim(s, "-") == ""
}
