package release

import (
	"context"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

func requestsOf(stats fakeopenshift.Stats, process, verb, kind string) int {
	return stats.Requests[fakeopenshift.RequestKey{Process: process, Verb: verb, Kind: kind}]
}

// newSharedClientEnv is a fake cluster, a client of another process that
// writes, a shared client of process "p", and the stream the tests track.
func newSharedClientEnv(t *testing.T) (*fakeopenshift.Cluster, ctrlruntimeclient.Client, *sharedClient, types.NamespacedName) {
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	return cluster, cluster.Client("writer"), &sharedClient{WithWatch: cluster.Client("p")},
		types.NamespacedName{Namespace: testNamespace, Name: "stable"}
}

// TestSharedClientListsAndWatchesOnce: while a run is on, any number of
// gets and waits of a tracked stream cost one list and one watch; they see
// every change; an apply of a tracked stream and a write of a tracked Lease
// are read back at once; after the
// run, reads go to the server.
func TestSharedClientListsAndWatchesOnce(t *testing.T) {
	ctx := t.Context()
	cluster, writer, c, stream := newSharedClientEnv(t)
	lease := types.NamespacedName{Namespace: testNamespace, Name: "record"}
	end := c.begin(ctx, watchKey{kind: "ImageStream", NamespacedName: stream}, watchKey{kind: "Lease", NamespacedName: lease})

	is := &imagev1.ImageStream{}
	if err := c.Get(ctx, stream, is); !apierrors.IsNotFound(err) {
		t.Fatalf("get of a missing stream: %v, want NotFound", err)
	}
	if err := writer.Create(ctx, &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Namespace: stream.Namespace, Name: stream.Name}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		annotation := string(rune('a' + i))
		if err := writer.Get(ctx, stream, is); err != nil {
			t.Fatal(err)
		}
		is.Annotations = map[string]string{"step": annotation}
		if err := writer.Update(ctx, is); err != nil {
			t.Fatal(err)
		}
		seen, err := waitForStream(ctx, c, stream.Namespace, stream.Name, time.Minute, func(is *imagev1.ImageStream) bool { return is.Annotations["step"] == annotation }, nil)
		if err != nil || seen == nil {
			t.Fatalf("wait %d: %v", i, err)
		}
		if err := c.Get(ctx, stream, is); err != nil || is.Annotations["step"] != annotation {
			t.Fatalf("get %d after the wait: %v, annotations %v", i, err, is.Annotations)
		}
	}
	// An apply is read back at once, before its watch event.
	ac := imagev1apply.ImageStream(stream.Name, stream.Namespace).WithAnnotations(map[string]string{"applied": "yes"})
	if err := c.Apply(ctx, ac, ctrlruntimeclient.FieldOwner("test")); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, stream, is); err != nil || is.Annotations["applied"] != "yes" || is.ResourceVersion != *ac.ResourceVersion {
		t.Fatalf("get right after the apply: %v, annotations %v, resourceVersion %q, want %q", err, is.Annotations, is.ResourceVersion, *ac.ResourceVersion)
	}
	record := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: lease.Namespace, Name: lease.Name}}
	if err := c.Get(ctx, lease, &coordinationv1.Lease{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get of a missing lease: %v, want NotFound", err)
	}
	if err := c.Create(ctx, record); err != nil {
		t.Fatal(err)
	}
	got := &coordinationv1.Lease{}
	if err := c.Get(ctx, lease, got); err != nil || got.ResourceVersion != record.ResourceVersion {
		t.Fatalf("get right after the create: %v, resourceVersion %q, want %q", err, got.ResourceVersion, record.ResourceVersion)
	}
	stats := cluster.Stats()
	for _, kind := range []string{"ImageStream", "Lease"} {
		for verb, want := range map[string]int{"list": 1, "watch": 1, "get": 0} {
			if got := requestsOf(stats, "p", verb, kind); got != want {
				t.Errorf("%d %s %s requests during the run, want %d", got, verb, kind, want)
			}
		}
	}
	end()
	if err := c.Get(ctx, stream, is); err != nil {
		t.Fatal(err)
	}
	if got := requestsOf(cluster.Stats(), "p", "get", "ImageStream"); got != 1 {
		t.Errorf("%d get requests after the run, want 1", got)
	}
}

// TestSharedClientListsAgainWhenTheWatchFails: a shared watch that cannot
// be started again lists again and brings the changes it missed.
func TestSharedClientListsAgainWhenTheWatchFails(t *testing.T) {
	ctx := t.Context()
	cluster, writer, c, stream := newSharedClientEnv(t)
	defer c.begin(ctx, watchKey{kind: "ImageStream", NamespacedName: stream})()
	is := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Namespace: stream.Namespace, Name: stream.Name}}
	if err := writer.Create(ctx, is); err != nil {
		t.Fatal(err)
	}
	if _, err := waitForStream(ctx, c, stream.Namespace, stream.Name, time.Minute, func(*imagev1.ImageStream) bool { return true }, nil); err != nil {
		t.Fatal(err)
	}
	// The stream may have come with the listing, before the shared watch's
	// watch was in place; a watch still on its way would miss the fault
	// and CloseWatches, and bring the change without a new listing.
	watching := func(c fakeopenshift.Call) bool {
		return c.Process == "p" && c.Verb == "watch" && c.Kind == "ImageStream" && c.Outcome == fakeopenshift.OutcomeRead
	}
	if err := wait.PollUntilContextTimeout(ctx, time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return cluster.Stats().CallsWhere(watching) >= 1, nil
	}); err != nil {
		t.Fatalf("the shared watch did not start watching: %v", err)
	}
	cluster.InjectFault(fakeopenshift.Fault{Process: "p", Verb: "watch", Kind: "ImageStream", Code: 500, Times: 1})
	cluster.CloseWatches()
	is.Annotations = map[string]string{"after": "expiry"}
	if err := writer.Update(ctx, is); err != nil {
		t.Fatal(err)
	}
	if _, err := waitForStream(ctx, c, stream.Namespace, stream.Name, time.Minute, func(is *imagev1.ImageStream) bool { return is.Annotations["after"] == "expiry" }, nil); err != nil {
		t.Fatalf("the change after the failed watch did not arrive: %v", err)
	}
	if got := requestsOf(cluster.Stats(), "p", "list", "ImageStream"); got != 2 {
		t.Errorf("%d lists, want 2 (the first and the one after the failed watch)", got)
	}
}

var _ ctrlruntimeclient.WithWatch = &sharedClient{}
