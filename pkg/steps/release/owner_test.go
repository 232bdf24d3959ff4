package release

import (
	"context"
	"errors"
	"testing"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// endsDuringGet is a client whose context ends while a Get is on its way,
// as a wait's timeout does to the checks it makes.
type endsDuringGet struct {
	ctrlruntimeclient.WithWatch
	cancel context.CancelFunc
}

func (c *endsDuringGet) Get(ctx context.Context, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
	c.cancel()
	return c.WithWatch.Get(ctx, key, obj, opts...)
}

// TestAReadOfTheRecordWhoseContextEndsIsAnError: a record read whose
// context ends reports the context's error, never an empty record (which
// would read as "no record" and fail the run as a conflict with nobody).
func TestAReadOfTheRecordWhoseContextEndsIsAnError(t *testing.T) {
	env := newTestEnv(t, 1, "latest")
	payload := env.releases["latest"].PullSpec
	if err := env.step("first", "latest").Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client := &endsDuringGet{WithWatch: env.cluster.Client("reader"), cancel: cancel}
	store := imagestreams.LeaseStore{Client: client, Key: ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: PayloadLeaseName("latest")}}
	claim := &payloadClaim{store: store, release: "latest", payload: payload}
	lease, err := claim.store.Get(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("read = %v, %v; want context.Canceled", lease, err)
	}
	if _, err := claim.check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("check = %v, want context.Canceled", err)
	}
	var conflict *PayloadConflictError
	if _, err := claim.check(ctx); errors.As(err, &conflict) {
		t.Errorf("check reported a conflict with %q for a read that did not happen", conflict.Holder)
	}
}
