// Package release is the import_release step: it imports a release payload
// into a CI namespace (release:<name>, and every payload image into
// stable-<name>) so that any number of processes can run it at once in the
// same namespace and all succeed with the work done once.
//
//	step := release.ImportReleaseStep(release.Config{Name: "latest", Source: release.NewFixedSource(pullSpec)}, client, jobSpec)
//	err := step.Run(ctx)
//
// No locks: writes are server-side applies of one canonical definition per
// tag (identical applies are no-ops), objects that do work are
// content-addressed, created once and adopted, and waits watch the image
// stream. See ../../../shared/DESIGN.md for the invariants.
package release
