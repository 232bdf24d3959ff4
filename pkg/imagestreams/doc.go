// Package imagestreams holds what every writer and every waiter of the import
// step's image streams must agree on: the one canonical definition of a tag,
// the field managers, the import state of a tag for its current generation,
// and a wait that watches one stream until its tags are imported,
// re-triggering failed imports within a budget.
//
//	err := imagestreams.WaitForImports(ctx, client, namespace, "stable", tags,
//		imagestreams.WithProgress(func(p imagestreams.Progress) { ... }))
//
// The rules for done-ness are openshift-apiserver's and
// openshift-controller-manager's:
// a tag whose spec generation is G is imported when its newest status entry
// is for generation G or later, and failed when an ImportSuccess=False
// condition is for generation G or later. A failed import is terminal in the
// import controller, so the wait re-triggers it itself: one process at a
// time per stream, the holder of a Lease-like claim (ledger.go), within a
// budget per failure episode; a permanent failure (ClassifyFailure) fails the
// wait at once. Tags left pending with no progress for the nudge delay are
// imported by the wait itself in small conditional batches, shared the same
// way (nudge.go). The stall timeout counts only while no tag changes state
// and no process is importing for the wait (the nudge Lease's holder renews
// it): a slow import is not a stall, a stuck one is.
// ClassifyFailure's doc has the table of openshift-apiserver's importer reasons.
package imagestreams
