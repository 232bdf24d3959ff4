// Package api mirrors the parts of ci-operator's step contract that the
// import_release step implements and uses: the Step interface, the links
// that order steps in a graph, the parameters a step provides, the job
// spec, and the names of the release streams.
//
// The method set and the meaning of every type are those of ci-operator's
// own api package, so ci-operator can wrap a step from this module in a few
// lines:
//
//	var s api.Step = release.ImportReleaseStep(cfg, client, jobSpec)
//	for _, link := range s.Creates() { ... }
//
// Only what the import step needs is mirrored; ci-operator's full API
// (configuration types, metrics, results) is not.
package api
