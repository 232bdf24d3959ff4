package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

// contentName names an object by what it is for and a short hash of its
// input, so that every process that needs it computes the same name, and a
// different input never finds the object of another.
func contentName(prefix, input string) string {
	sum := sha256.Sum256([]byte(input))
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}

// validateReleaseName checks a release name against what every object named
// after it requires, so that a bad name fails before the first write rather
// than after some objects were written. The name is a label value on the
// step's pods, a tag of the release stream, and part of the names of the
// stream stable-<name>, the pods and the ConfigMap; so it must be a DNS-1123
// label (lower-case alphanumerics and '-', at most 63 characters), which is
// also a valid tag, label value and image stream name component. The names
// built from a 63-character name stay DNS-1123 subdomains (at most 253
// characters); TestDerivedNamesOfTheLongestReleaseName keeps that true.
func validateReleaseName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("release name %q is not valid: it names the stream %s, the tag %s:%s and the step's pods, and %s",
			truncate(name, 80), truncate(api.ReleaseStreamFor(name), 80), api.ReleaseImageStream, truncate(name, 80), strings.Join(errs, "; "))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
