package fakeopenshift

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	imagev1 "github.com/openshift/api/image/v1"
)

// failures makes n sequential GETs and returns which ones failed.
func failures(t *testing.T, c *Cluster, n int) []int {
	t.Helper()
	var failed []int
	cl := c.Client("p")
	for i := range n {
		if err := cl.Get(t.Context(), key("cm"), &corev1.ConfigMap{}); err != nil {
			if !apierrors.IsTooManyRequests(err) {
				t.Fatalf("request %d: %v, want 429", i, err)
			}
			failed = append(failed, i)
		}
	}
	return failed
}

// TestFaultProbabilityIsSeeded: a fault with a probability fails about that
// share of the requests, and the same ones for the same seed.
func TestFaultProbabilityIsSeeded(t *testing.T) {
	const n = 400
	run := func(seed uint64) []int {
		c := newTestCluster(t, WithSeed(seed))
		c.Stop()
		if err := c.Client("setup").Create(t.Context(), testConfigMap("cm", nil)); err != nil {
			t.Fatal(err)
		}
		c.InjectFault(Fault{Verb: "get", Code: 429, Probability: 0.5})
		return failures(t, c, n)
	}
	first, again, other := run(7), run(7), run(8)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("the same seed failed other requests (-first +again):\n%s", diff)
	}
	if cmp.Equal(first, other) {
		t.Error("another seed failed the very same requests")
	}
	if got := len(first); got < n*35/100 || got > n*65/100 {
		t.Errorf("%d of %d requests failed, want about half", got, n)
	}
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestFaultTimeWindow: a fault with Start and Duration fails requests only
// within that window after it was injected ("every request answered 429
// from 1s to 3s").
func TestFaultTimeWindow(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	c := newTestCluster(t, func(o *Options) { o.Now = clock.Now })
	c.Stop()
	if err := c.Client("setup").Create(t.Context(), testConfigMap("cm", nil)); err != nil {
		t.Fatal(err)
	}
	c.InjectFault(Fault{Verb: "get", Code: 429, Start: time.Second, Duration: 2 * time.Second})
	var got []bool
	for _, step := range []time.Duration{0, 999 * time.Millisecond, time.Millisecond, time.Second, 999 * time.Millisecond, time.Millisecond, time.Hour} {
		clock.Step(step)
		got = append(got, c.Client("p").Get(t.Context(), key("cm"), &corev1.ConfigMap{}) != nil)
	}
	want := []bool{false, false, true, true, true, false, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed requests at 0, 0.999, 1, 2, 2.999, 3s, 1h (-want +got):\n%s", diff)
	}
}

// TestFaultClientErrors: a client-side fault is what client-go returns when
// the transport fails, not an API status; with AfterWrite the write landed.
func TestFaultClientErrors(t *testing.T) {
	ctx := t.Context()
	c := newStoreOnlyCluster(t)
	cl := c.Client("p")
	remove := c.InjectFault(Fault{Verb: "get", ClientError: ConnectionRefused})
	err := cl.Get(ctx, key("cm"), &corev1.ConfigMap{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connection refused: got %v", err)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		t.Errorf("a transport error came back as an API status: %v", err)
	}
	remove()
	c.InjectFault(Fault{Verb: "create", ClientError: EOF, AfterWrite: true})
	if err := cl.Create(ctx, testConfigMap("cm", nil)); !errors.Is(err, io.EOF) {
		t.Errorf("EOF after write: got %v", err)
	}
	if err := cl.Get(ctx, key("cm"), &corev1.ConfigMap{}); err != nil {
		t.Errorf("the write did not land: %v", err)
	}
	if got := c.Stats().Calls[Call{Process: "p", Verb: "create", Kind: "ConfigMap", Manager: "p", Outcome: OutcomeWritten}]; got != 1 {
		t.Errorf("the create that landed is counted %d times as written, want 1", got)
	}
}

// TestImageStreamImportStampsRepositoryCheck: an import that changes no tag
// still writes the stream when it lacks the
// openshift.io/image.dockerRepositoryCheck annotation (the annotation is
// set, the generation stays), and writes nothing once it is there.
func TestImageStreamImportStampsRepositoryCheck(t *testing.T) {
	ctx := t.Context()
	c := newStoreOnlyCluster(t)
	rel := addRelease(c, 1)
	cl := c.Client("p")
	isi := func() {
		t.Helper()
		if err := cl.Create(ctx, streamImport("s", true, imageImport(rel.PullSpec, "t", imagev1.ImportModePreserveOriginal))); err != nil {
			t.Fatal(err)
		}
	}
	isi()
	is := getStream(t, cl, "s")
	delete(is.Annotations, imagev1.DockerImageRepositoryCheckAnnotation)
	if err := cl.Update(ctx, is); err != nil {
		t.Fatal(err)
	}
	before := getStream(t, cl, "s")
	isi()
	stamped := getStream(t, cl, "s")
	if stamped.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] == "" || stamped.ResourceVersion == before.ResourceVersion {
		t.Errorf("the import did not write the missing annotation: rv %s -> %s, annotations %v", before.ResourceVersion, stamped.ResourceVersion, stamped.Annotations)
	}
	if stamped.Generation != before.Generation {
		t.Errorf("stamping the annotation moved the generation %d -> %d", before.Generation, stamped.Generation)
	}
	isi()
	if again := getStream(t, cl, "s"); again.ResourceVersion != stamped.ResourceVersion {
		t.Errorf("an import with nothing new wrote the stream: rv %s -> %s", stamped.ResourceVersion, again.ResourceVersion)
	}
}
