package api

import "strings"

const (
	// ReleaseImageStream is the stream whose tags hold the release payload
	// images, one tag per release name (release:initial, release:latest).
	ReleaseImageStream = "release"
	// StableImageStream is the stream that holds the images of the latest
	// release and the images the job builds.
	StableImageStream = "stable"

	// LatestReleaseName is the release the job tests, imported into stable.
	LatestReleaseName = "latest"
	// InitialReleaseName is the release an upgrade test starts from, imported
	// into stable-initial.
	InitialReleaseName = "initial"

	// ReleaseConfigAnnotation on a stable stream carries the release's
	// configuration, e.g. {"name":"4.18.0-0"}.
	ReleaseConfigAnnotation = "release.openshift.io/config"
	// ReleaseLabel on a pod names the release the pod works for.
	ReleaseLabel = "ci.openshift.io/release"
)

// ReleaseStreamFor returns the stream the images of the release name go to:
// stable for latest, stable-<name> for every other release.
func ReleaseStreamFor(name string) string {
	if name == LatestReleaseName {
		return StableImageStream
	}
	return StableImageStream + "-" + name
}

// ReleaseImageEnv returns the parameter that carries the pull spec of the
// imported release payload name: RELEASE_IMAGE_<NAME>, upper-cased, with
// dashes turned into underscores.
func ReleaseImageEnv(name string) string {
	return "RELEASE_IMAGE_" + envSuffix(name)
}

// OriginalReleaseImageEnv returns the parameter that carries the pull spec the
// release name was imported from: ORIGINAL_RELEASE_IMAGE_<NAME>.
func OriginalReleaseImageEnv(name string) string {
	return "ORIGINAL_RELEASE_IMAGE_" + envSuffix(name)
}

func envSuffix(name string) string {
	return strings.ReplaceAll(strings.ToUpper(name), "-", "_")
}
