package api

import (
	"errors"
	"testing"
)

func TestStepLinkSatisfiedBy(t *testing.T) {
	testCases := []struct {
		name    string
		require StepLink
		created StepLink
		want    bool
	}{
		{name: "same stream", require: ImageStreamLink("stable"), created: ImageStreamLink("stable"), want: true},
		{name: "other stream", require: ImageStreamLink("stable"), created: ImageStreamLink("stable-initial"), want: false},
		{name: "stream is not a tag", require: ImageStreamLink("release"), created: ImageStreamTagLink("release", "latest"), want: false},
		{name: "same tag", require: ImageStreamTagLink("release", "latest"), created: ImageStreamTagLink("release", "latest"), want: true},
		{name: "other tag", require: ImageStreamTagLink("release", "latest"), created: ImageStreamTagLink("release", "initial"), want: false},
		{name: "tag in other stream", require: ImageStreamTagLink("release", "latest"), created: ImageStreamTagLink("stable", "latest"), want: false},
		{name: "tag is not satisfied by its stream", require: ImageStreamTagLink("release", "latest"), created: ImageStreamLink("release"), want: false},
		{name: "images ready", require: ImagesReadyLink(), created: ImagesReadyLink(), want: true},
		{name: "images ready is not a stream", require: ImagesReadyLink(), created: ImageStreamLink("stable"), want: false},
		{name: "payload link is a release tag", require: ReleasePayloadImageLink("initial"), created: ImageStreamTagLink(ReleaseImageStream, "initial"), want: true},
		{name: "release images of latest is stable", require: ReleaseImagesLink(LatestReleaseName), created: ImageStreamLink("stable"), want: true},
		{name: "release images of initial is stable-initial", require: ReleaseImagesLink(InitialReleaseName), created: ImageStreamLink("stable-initial"), want: true},
		{name: "release images of initial is not stable", require: ReleaseImagesLink(InitialReleaseName), created: ReleaseImagesLink(LatestReleaseName), want: false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.require.SatisfiedBy(tc.created); got != tc.want {
				t.Errorf("%v.SatisfiedBy(%v) = %v, want %v", tc.require, tc.created, got, tc.want)
			}
		})
	}
}

func TestUnsatisfiableErrorNamesTheLink(t *testing.T) {
	testCases := []struct {
		link StepLink
		want string
	}{
		{link: ReleaseImagesLink("initial"), want: `no step creates the image stream "stable-initial"`},
		{link: ReleasePayloadImageLink("latest"), want: "no step creates the image stream tag release:latest"},
		{link: ImagesReadyLink(), want: "no step makes the job's images ready"},
	}
	for _, tc := range testCases {
		if got := tc.link.UnsatisfiableError(); got != tc.want {
			t.Errorf("UnsatisfiableError() = %q, want %q", got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	testCases := []struct {
		name                     string
		stream, env, originalEnv string
	}{
		{name: "latest", stream: "stable", env: "RELEASE_IMAGE_LATEST", originalEnv: "ORIGINAL_RELEASE_IMAGE_LATEST"},
		{name: "initial", stream: "stable-initial", env: "RELEASE_IMAGE_INITIAL", originalEnv: "ORIGINAL_RELEASE_IMAGE_INITIAL"},
		{name: "arm64-latest", stream: "stable-arm64-latest", env: "RELEASE_IMAGE_ARM64_LATEST", originalEnv: "ORIGINAL_RELEASE_IMAGE_ARM64_LATEST"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReleaseStreamFor(tc.name); got != tc.stream {
				t.Errorf("ReleaseStreamFor(%q) = %q, want %q", tc.name, got, tc.stream)
			}
			if got := ReleaseImageEnv(tc.name); got != tc.env {
				t.Errorf("ReleaseImageEnv(%q) = %q, want %q", tc.name, got, tc.env)
			}
			if got := OriginalReleaseImageEnv(tc.name); got != tc.originalEnv {
				t.Errorf("OriginalReleaseImageEnv(%q) = %q, want %q", tc.name, got, tc.originalEnv)
			}
		})
	}
}

func TestJobSpecNamespace(t *testing.T) {
	var spec JobSpec
	if got := spec.Namespace(); got != "" {
		t.Fatalf("new JobSpec has namespace %q", got)
	}
	spec.SetNamespace("ci-op-1234")
	if got := spec.Namespace(); got != "ci-op-1234" {
		t.Fatalf("Namespace() = %q after SetNamespace", got)
	}
}

func TestForReason(t *testing.T) {
	if ForReason("importing_release", nil) != nil {
		t.Fatal("ForReason(nil) is not nil")
	}
	base := errors.New("boom")
	err := ForReason("importing_release", base)
	if got := ReasonFor(err); got != "importing_release" {
		t.Errorf("ReasonFor() = %q", got)
	}
	if !errors.Is(err, base) || err.Error() != "boom" {
		t.Errorf("ForReason lost the error: %v", err)
	}
	if got := ReasonFor(base); got != "" {
		t.Errorf("ReasonFor(untagged) = %q", got)
	}
}
