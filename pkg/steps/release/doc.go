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
// stream. The invariants every change keeps: a run once, K times in sequence
// or in N processes at once ends in the same state; for N processes every
// image is imported once, every pod created once, and the writes equal one
// process's; every writer of a tag writes the same definition; nothing
// another process may use is deleted (only a Failed pod, or a Succeeded
// extract pod whose ConfigMap is gone, with a UID precondition); waits
// watch; a failed import fails the run in seconds, naming the tag — at once
// for a permanent reason, after a re-trigger budget shared by all processes
// for a transient one; tags of other writers survive the merge.
//
// A namespace outlives one run, so the step keeps records in it
// (docs/records.md): which payload holds the release name (one at a time),
// who may re-trigger failed imports, the merged mark on the stable stream and
// the cli tag's provenance.
package release
