package imagestreams

import (
	"sync"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/internal/testclient"
)

// TestWaitIgnoresOtherStreams: on a server that sends the events of other
// streams, the wait judges only its own: another stream with the same tag
// already imported does not end it.
func TestWaitIgnoresOtherStreams(t *testing.T) {
	env := newWaitEnv(t)
	env.apply(t, "other", "", "installer")
	if _, err := WaitForImports(t.Context(), env.client, waitNamespace, "other", []string{"installer"}); err != nil {
		t.Fatalf("importing the other stream: %v", err)
	}
	// The stream waited for imports slowly, so it is still pending when the
	// wait starts; the other stream's ADDED event comes first (by name).
	defer env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: env.images["installer"].PullSpec, Latency: 300 * time.Millisecond})()
	env.apply(t, "stable", "", "installer")
	var is *imagev1.ImageStream
	var err error
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	wg.Go(func() {
		is, err = WaitForImports(t.Context(), testclient.SelectorBlind(env.client), waitNamespace, "stable", []string{"installer"},
			WithProgress(func(Progress) { once.Do(func() { close(started) }) }))
	})
	// While the wait runs, the other stream changes: its event reaches the
	// wait's watch.
	<-started
	time.Sleep(50 * time.Millisecond)
	other := &imagev1.ImageStream{}
	if err := env.client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: waitNamespace, Name: "other"}, other); err != nil {
		t.Fatal(err)
	}
	other.Labels = map[string]string{"touched": "true"}
	if err := env.client.Update(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err != nil {
		t.Fatalf("WaitForImports: %v", err)
	}
	if is.Name != "stable" {
		t.Fatalf("WaitForImports returned stream %s, want stable", is.Name)
	}
	if st := StateOf(is, "installer"); st.Phase != Imported {
		t.Errorf("%s", st)
	}
}
