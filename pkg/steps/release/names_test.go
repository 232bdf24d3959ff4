package release

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ci-operator-plugins/import-release/pkg/api"
)

func TestBadReleaseNamesFailBeforeAnyWrite(t *testing.T) {
	testCases := []struct {
		name, release, want string
	}{
		{name: "upper case", release: "Latest", want: "lower case"},
		{name: "underscore", release: "my_release", want: "lower case"},
		{name: "slash", release: "a/b", want: "lower case"},
		{name: "300 characters", release: strings.Repeat("a", 300), want: "no more than 63 characters"},
		{name: "64 characters", release: strings.Repeat("a", 64), want: "no more than 63 characters"},
		{name: "leading dash", release: "-latest", want: "must start and end with an alphanumeric"},
		{name: "dot", release: "4.18", want: "must not contain dots"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 3, "latest")
			err := env.step("shard-0", "latest", func(c *Config) { c.Name = tc.release }).Run(t.Context())
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if !strings.Contains(err.Error(), "release name") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say the release name is bad (%q)", err, tc.want)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error is %d characters long", len(err.Error()))
			}
			stats := env.cluster.Stats()
			if n := stats.RequestsBy(isShard); n != 0 {
				t.Errorf("the step made %d requests before failing, want none\n%s", n, stats.Report())
			}
			if n := stats.WritesBy(isShard); n != 0 {
				t.Errorf("the step made %d writes before failing, want none", n)
			}
		})
	}
}

func TestGoodReleaseNamesValidate(t *testing.T) {
	for _, name := range []string{"latest", "initial", "arm64-latest", "a", strings.Repeat("a", 63)} {
		if err := validateReleaseName(name); err != nil {
			t.Errorf("validateReleaseName(%q) = %v", name, err)
		}
	}
}

// TestDerivedNamesOfTheLongestReleaseName guards the promise of
// validateReleaseName: every name built from a valid release name is valid
// for its object.
func TestDerivedNamesOfTheLongestReleaseName(t *testing.T) {
	longest := strings.Repeat("a", validation.DNS1123LabelMaxLength)
	for _, derived := range []string{CLIPodName(longest, "payload"), ExtractName(longest, "payload"), api.ReleaseStreamFor(longest)} {
		if errs := validation.IsDNS1123Subdomain(derived); len(errs) > 0 {
			t.Errorf("%s: %v", derived, errs)
		}
	}
}
