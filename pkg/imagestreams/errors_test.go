package imagestreams

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestErrorsAreBounded(t *testing.T) {
	var failed []TagState
	for i := range 5000 {
		tag := fmt.Sprintf("tag-%04d", i)
		failed = append(failed, TagState{
			Tag: tag, Phase: Failed, Source: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("0", 64),
			Reason: "InternalError", Message: "Internal error occurred: " + strings.Repeat("registry said no; ", 100),
		})
	}
	testCases := []struct {
		name     string
		err      error
		wantText []string
	}{
		{
			name:     "import failed",
			err:      &ImportFailedError{Namespace: "ci-op-1", Stream: "stable", Failed: failed},
			wantText: []string{"could not import 5000 tag(s) into ci-op-1/stable", "tag-0000 from quay.io/", "tag-0004", "and 4995 more", "InternalError"},
		},
		{
			name:     "stalled",
			err:      &StalledError{Namespace: "ci-op-1", Stream: "stable", Timeout: time.Minute, Total: 5000, Waiting: failed},
			wantText: []string{"0/5000 tags imported", "tag-0000 (failed)", "tag-0004", "and 4995 more"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			if len(msg) >= 2048 {
				t.Errorf("error is %d bytes, want under 2 KB", len(msg))
			}
			for _, want := range tc.wantText {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, "tag-0005") {
				t.Errorf("error names more than %d tags: %q", maxNamedTags, msg)
			}
		})
	}
}

func TestErrorsNameFewTagsWhole(t *testing.T) {
	err := &ImportFailedError{Namespace: "ns", Stream: "stable", Failed: []TagState{
		{Tag: "cli", Source: "quay.io/a/cli:1", Reason: "NotFound", Message: `dockerimage.image.openshift.io "quay.io/a/cli:1" not found`},
		{Tag: "etcd", Source: "quay.io/a/etcd:1", Reason: "Unauthorized", Message: "no"},
	}}
	want := `could not import 2 tag(s) into ns/stable: cli from quay.io/a/cli:1: NotFound: dockerimage.image.openshift.io "quay.io/a/cli:1" not found; etcd from quay.io/a/etcd:1: Unauthorized: no`
	if got := err.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"short", "short"},
		{"abcdefgh", "abcde…"},
		{"abcdéfgh", "abcd…"},
	} {
		if got := shorten(tc.in, 5); got != tc.want {
			t.Errorf("shorten(%q, 5) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
