package pullspec

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testCases := []struct {
		name    string
		in      string
		want    Reference
		wantErr bool
	}{
		{name: "tag", in: "quay.io/openshift-release-dev/ocp-release:4.18.0-x86_64", want: Reference{Repository: "quay.io/openshift-release-dev/ocp-release", Tag: "4.18.0-x86_64"}},
		{name: "digest", in: "quay.io/ocp/release@" + digest, want: Reference{Repository: "quay.io/ocp/release", Digest: digest}},
		{name: "tag and digest", in: "quay.io/ocp/release:4.18@" + digest, want: Reference{Repository: "quay.io/ocp/release", Tag: "4.18", Digest: digest}},
		{name: "port", in: "localhost:5000/ns/img:v1", want: Reference{Repository: "localhost:5000/ns/img", Tag: "v1"}},
		{name: "no tag", in: "registry.ci.openshift.org/ocp/release", want: Reference{Repository: "registry.ci.openshift.org/ocp/release"}},
		{name: "empty", in: "", wantErr: true},
		{name: "whitespace", in: "quay.io/ocp/release:4.18 ", wantErr: true},
		{name: "no host", in: "ocp/release:4.18", wantErr: true},
		{name: "upper case path", in: "quay.io/OCP/release:4.18", wantErr: true},
		{name: "short digest", in: "quay.io/ocp/release@sha256:abc", wantErr: true},
		{name: "bad tag", in: "quay.io/ocp/release:-bad", wantErr: true},
		{name: "just a word", in: "release", wantErr: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) error = %v, want ErrInvalid", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestReferenceString(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got := (Reference{Repository: "quay.io/a/b", Tag: "x", Digest: digest}).String(); got != "quay.io/a/b@"+digest {
		t.Errorf("String() = %q, want the digest form", got)
	}
	if got := (Reference{Repository: "quay.io/a/b", Tag: "x"}).String(); got != "quay.io/a/b:x" {
		t.Errorf("String() = %q, want the tag form", got)
	}
	if got := (Reference{Repository: "quay.io/a/b"}).String(); got != "quay.io/a/b" {
		t.Errorf("String() = %q, want the bare repository", got)
	}
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{"cli": true, "4.18.0-0.nightly": true, "_x": true, "": false, "-x": false, ".x": false, "a/b": false, string(make([]byte, 129)): false} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

// TestMatchersAgreeWithTheGrammar checks the hand-written matchers against
// the distribution grammar's regular expressions, on chosen cases and on
// random strings over the alphabet that matters.
func TestMatchersAgreeWithTheGrammar(t *testing.T) {
	grammar := []struct {
		name    string
		pattern *regexp.Regexp
		match   func(string) bool
		cases   []string
	}{
		{"host", regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`), validHost,
			[]string{"", "quay.io", "localhost", "localhost:5000", "a-b.c", "-a.b", "a-.b", "a..b", ".a", "a.", "a:", ":5000", "a:50:00", "a:5x", "A.B-9"}},
		{"tag", regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$`), validTag,
			[]string{"", "a", "_", "-", ".", "A.b-c_d", "a/b", strings.Repeat("a", 128), strings.Repeat("a", 129), "é"}},
		{"digest", regexp.MustCompile(`^sha256:[a-f0-9]{64}$`), validDigest,
			[]string{"", "sha256:", "sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("0", 63), "sha256:" + strings.Repeat("0", 65), "sha512:" + strings.Repeat("0", 64)}},
		{"component", regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`), validComponent,
			[]string{"", "a", "a.b", "a..b", "a_b", "a__b", "a___b", "a-b", "a---b", "a-_b", "a._b", ".a", "a.", "a-", "-a", "A", "a/b", "ocp-release", "a.b_c__d-e--f"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "az09AZ._-/:@é"
	for _, g := range grammar {
		inputs := slices.Clone(g.cases)
		for range 20000 {
			b := make([]byte, rng.IntN(10))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			inputs = append(inputs, string(b))
		}
		for _, in := range inputs {
			if want, got := g.pattern.MatchString(in), g.match(in); got != want {
				t.Errorf("%s %q: matcher says %v, the grammar %v", g.name, in, got, want)
			}
		}
	}
}
