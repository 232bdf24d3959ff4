package fakeopenshift

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
)

// TestStatsCallOutcomes: every request is counted with what the server did
// with it, so no-op writes, AlreadyExists, conflicts and 404s are visible
// next to the state-changing writes.
func TestStatsCallOutcomes(t *testing.T) {
	ctx := t.Context()
	c := newStoreOnlyCluster(t)
	cl := c.Client("p")
	cm := testConfigMap("cm", map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	_ = cl.Create(ctx, testConfigMap("cm", nil))                                                                     // already exists
	_ = cl.Update(ctx, cm)                                                                                           // identical: no-op
	_ = cl.Get(ctx, key("missing"), &corev1.ConfigMap{})                                                             // not found
	_ = cl.Get(ctx, key("cm"), &corev1.ConfigMap{})                                                                  // read
	_ = cl.Delete(ctx, cm, ctrlruntimeclient.Preconditions{UID: ptrTo(types.UID("not-the-uid"))})                    // conflict
	_ = cl.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name", Namespace: testNamespace}}) // invalid
	if err := applyAs(ctx, cl, streamApply("is", tagApply("a", missingPullSpec(1))), "payload", true); err != nil {
		t.Fatal(err)
	}
	if err := applyAs(ctx, cl, streamApply("is", tagApply("a", missingPullSpec(1))), "payload", true); err != nil {
		t.Fatal(err)
	}
	want := map[Call]int{
		{Process: "p", Verb: "create", Kind: "ConfigMap", Manager: "p", Outcome: OutcomeWritten}:        1,
		{Process: "p", Verb: "create", Kind: "ConfigMap", Manager: "p", Outcome: OutcomeAlreadyExists}:  1,
		{Process: "p", Verb: "create", Kind: "ConfigMap", Manager: "p", Outcome: OutcomeError}:          1,
		{Process: "p", Verb: "update", Kind: "ConfigMap", Manager: "p", Outcome: OutcomeNoOp}:           1,
		{Process: "p", Verb: "get", Kind: "ConfigMap", Outcome: OutcomeNotFound}:                        1,
		{Process: "p", Verb: "get", Kind: "ConfigMap", Outcome: OutcomeRead}:                            1,
		{Process: "p", Verb: "delete", Kind: "ConfigMap", Outcome: OutcomeConflict}:                     1,
		{Process: "p", Verb: "apply", Kind: "ImageStream", Manager: "payload", Outcome: OutcomeWritten}: 1,
		{Process: "p", Verb: "apply", Kind: "ImageStream", Manager: "payload", Outcome: OutcomeNoOp}:    1,
	}
	stats := c.Stats()
	if diff := cmp.Diff(want, stats.Calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	isP := func(p string) bool { return p == "p" }
	if got := stats.WritesBy(isP); got != 2 {
		t.Errorf("%d state-changing writes, want 2 (the first create and apply)", got)
	}
	if got := stats.MutatingBy(isP); got != 7 {
		t.Errorf("%d mutating requests, want 7", got)
	}
	if got := stats.AppliesBy("ImageStream", "payload", isP); got != 2 {
		t.Errorf("%d payload applies, want 2: a no-op apply is still sent", got)
	}
	if stats.RequestBytes["p"] == 0 {
		t.Error("no request bytes counted")
	}
}

// TestStatsWatchBytes: the events delivered to a process's watches are
// counted with their size, per process.
func TestStatsWatchBytes(t *testing.T) {
	c := newStoreOnlyCluster(t)
	createStream(t, c.Client("writer"), newStream("a"))
	w := watchStreams(t, c.Client("watcher"), "a", "")
	expectEvent(t, w, "ADDED", "a")
	updateStream(t, c.Client("writer"), "a", func(is *imagev1.ImageStream) { is.Labels = map[string]string{"x": "y"} })
	expectEvent(t, w, "MODIFIED", "a")
	w.Stop()
	stats := c.Stats()
	if got := stats.WatchEvents["watcher"]; got != 2 {
		t.Errorf("%d events delivered to the watcher, want 2", got)
	}
	if stats.WatchBytes["watcher"] < 100 {
		t.Errorf("%d watch bytes, want the size of two streams", stats.WatchBytes["watcher"])
	}
	if stats.WatchEvents["writer"] != 0 {
		t.Errorf("events counted for a process that did not watch: %v", stats.WatchEvents)
	}
}
