package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePullSpec(t *testing.T) {
	digest := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	type parsed struct{ Repo, Tag, Digest string }
	testCases := []struct {
		name    string
		in      string
		want    parsed
		wantErr string
	}{
		{name: "tag", in: "quay.io/openshift-release-dev/ocp-release:4.18.0-x86_64", want: parsed{Repo: "quay.io/openshift-release-dev/ocp-release", Tag: "4.18.0-x86_64"}},
		{name: "digest", in: "quay.io/ocp/release-art-dev@" + digest, want: parsed{Repo: "quay.io/ocp/release-art-dev", Digest: digest}},
		{name: "tag and digest", in: "quay.io/ocp/release:4.18@" + digest, want: parsed{Repo: "quay.io/ocp/release", Tag: "4.18", Digest: digest}},
		{name: "no tag", in: "registry.fake.openshift.test/ocp/release", want: parsed{Repo: "registry.fake.openshift.test/ocp/release"}},
		{name: "host with port", in: "localhost:5000/ns/name:latest", want: parsed{Repo: "localhost:5000/ns/name", Tag: "latest"}},
		{name: "host with port, no tag", in: "registry.example.com:443/ns/name", want: parsed{Repo: "registry.example.com:443/ns/name"}},
		{name: "localhost", in: "localhost/name", want: parsed{Repo: "localhost/name"}},
		{name: "separators in path", in: "quay.io/a.b/c__d/e--f_g:v1.0_rc-1", want: parsed{Repo: "quay.io/a.b/c__d/e--f_g", Tag: "v1.0_rc-1"}},
		{name: "upper-case host", in: "Quay.IO/ocp/release:x", want: parsed{Repo: "Quay.IO/ocp/release", Tag: "x"}},

		{name: "empty", in: "", wantErr: `invalid pull spec "": empty`},
		{name: "leading space", in: " quay.io/ocp/release:x", wantErr: "whitespace"},
		{name: "inner space", in: "quay.io/ocp/release :x", wantErr: "whitespace"},
		{name: "trailing newline", in: "quay.io/ocp/release:x\n", wantErr: "whitespace"},
		{name: "tab", in: "quay.io/ocp\t/release", wantErr: "whitespace"},
		{name: "upper case in path", in: "quay.io/OCP/release:x", wantErr: `component "OCP" has upper-case letters`},
		{name: "upper case in last component", in: "quay.io/ocp/Release", wantErr: "upper-case"},
		{name: "no host", in: "ocp/release:x", wantErr: "registry host"},
		{name: "short name", in: "ubuntu:latest", wantErr: "registry host"},
		{name: "host only", in: "quay.io", wantErr: "registry host"},
		{name: "bad host", in: "-quay.io/ocp/release", wantErr: "registry host"},
		{name: "empty path component", in: "quay.io/ocp//release", wantErr: `invalid repository path component ""`},
		{name: "trailing slash", in: "quay.io/ocp/", wantErr: "invalid repository path component"},
		{name: "leading separator", in: "quay.io/-ocp/release", wantErr: "invalid repository path component"},
		{name: "empty tag", in: "quay.io/ocp/release:", wantErr: `invalid tag ""`},
		{name: "tag with bad character", in: "quay.io/ocp/release:a+b", wantErr: "invalid tag"},
		{name: "tag too long", in: "quay.io/ocp/release:" + strings.Repeat("a", 129), wantErr: "invalid tag"},
		{name: "short digest", in: "quay.io/ocp/release@sha256:abc", wantErr: "digest must be sha256"},
		{name: "upper-case digest", in: "quay.io/ocp/release@" + strings.ToUpper(digest), wantErr: "digest must be sha256"},
		{name: "other algorithm", in: "quay.io/ocp/release@sha512:" + strings.Repeat("0", 128), wantErr: "digest must be sha256"},
		{name: "empty digest", in: "quay.io/ocp/release@", wantErr: "digest must be sha256"},
		{name: "two digests", in: "quay.io/ocp/release@" + digest + "@" + digest, wantErr: "digest must be sha256"},
		{name: "repository too long", in: "quay.io/" + strings.Repeat("a", 250), wantErr: "longer than 255"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			repo, tag, digest, err := ParsePullSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParsePullSpec(%q) = %q, %q, %q, want an error containing %q", tc.in, repo, tag, digest, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidPullSpec) {
					t.Errorf("error %v does not wrap ErrInvalidPullSpec", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePullSpec(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, parsed{Repo: repo, Tag: tag, Digest: digest}); diff != "" {
				t.Errorf("ParsePullSpec(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
