package fakeopenshift

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
)

// TestStoreWatchSelectors: a watch sees only the objects its selectors match.
func TestStoreWatchSelectors(t *testing.T) {
	testCases := []struct {
		name string
		opts []ctrlruntimeclient.ListOption
		want []string // names of the events seen, in order, before the final marker
	}{
		{name: "label", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingLabels{"app": "x"}}, want: []string{"ADDED x1", "MODIFIED x1", "ADDED marker"}},
		{name: "metadata.name", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingFields{"metadata.name": "y1"}}, want: []string{"ADDED y1", "DELETED y1"}},
		{name: "raw metadata.name", opts: []ctrlruntimeclient.ListOption{&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{FieldSelector: "metadata.name=y1"}}}, want: []string{"ADDED y1", "DELETED y1"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			cl := newStoreOnlyCluster(t).Client("test")
			w, err := cl.Watch(ctx, &corev1.ConfigMapList{}, append([]ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(testNamespace)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			x1 := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x1", Namespace: testNamespace, Labels: map[string]string{"app": "x"}}}
			y1 := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "y1", Namespace: testNamespace, Labels: map[string]string{"app": "y"}}}
			for _, obj := range []*corev1.ConfigMap{x1, y1} {
				if err := cl.Create(ctx, obj); err != nil {
					t.Fatal(err)
				}
			}
			x1.Data = map[string]string{"k": "v"}
			if err := cl.Update(ctx, x1); err != nil {
				t.Fatal(err)
			}
			if err := cl.Delete(ctx, y1); err != nil {
				t.Fatal(err)
			}
			// The marker matches every selector of the table but the name.
			marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "marker", Namespace: testNamespace, Labels: map[string]string{"app": "x"}}}
			if err := cl.Create(ctx, marker); err != nil {
				t.Fatal(err)
			}
			var got []string
			for range tc.want {
				ev := nextEvent(t, w)
				got = append(got, fmt.Sprintf("%s %s", ev.Type, ev.Object.(*corev1.ConfigMap).Name))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStoreWatchFromResourceVersion: a watch from a resourceVersion replays
// every later event in order; from "" or "0" it first sends the current
// state as ADDED events.
func TestStoreWatchFromResourceVersion(t *testing.T) {
	ctx := t.Context()
	// setup writes the same history to a fresh cluster for each case and
	// returns the resourceVersions worth starting from.
	setup := func(t *testing.T) (ctrlruntimeclient.WithWatch, map[string]string) {
		cl := newStoreOnlyCluster(t).Client("test")
		rvs := map[string]string{"": "", "0": "0"}
		first := testConfigMap("first", nil)
		if err := cl.Create(ctx, first); err != nil {
			t.Fatal(err)
		}
		rvs["first created"] = first.ResourceVersion
		second := testConfigMap("second", nil)
		if err := cl.Create(ctx, second); err != nil {
			t.Fatal(err)
		}
		first.Data = map[string]string{"a": "1"}
		if err := cl.Update(ctx, first); err != nil {
			t.Fatal(err)
		}
		rvs["first updated"] = first.ResourceVersion
		if err := cl.Delete(ctx, second); err != nil {
			t.Fatal(err)
		}
		list := &corev1.ConfigMapList{}
		if err := cl.List(ctx, list, ctrlruntimeclient.InNamespace(testNamespace)); err != nil {
			t.Fatal(err)
		}
		rvs["list"] = list.ResourceVersion
		return cl, rvs
	}

	testCases := []struct {
		name string
		from string
		want []string
	}{
		{name: "from the first create", from: "first created", want: []string{"ADDED second", "MODIFIED first", "DELETED second"}},
		{name: "from the update", from: "first updated", want: []string{"DELETED second"}},
		{name: "from the list", from: "list"},
		{name: "empty", from: "", want: []string{"ADDED first"}},
		{name: "zero", from: "0", want: []string{"ADDED first"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl, from := setup(t)
			w, err := cl.Watch(ctx, &corev1.ConfigMapList{}, ctrlruntimeclient.InNamespace(testNamespace),
				&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: from[tc.from]}})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			var got []string
			var rvs []uint64
			for range tc.want {
				ev := nextEvent(t, w)
				cm := ev.Object.(*corev1.ConfigMap)
				got = append(got, fmt.Sprintf("%s %s", ev.Type, cm.Name))
				rvs = append(rvs, rvOf(t, cm))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			for i := 1; i < len(rvs); i++ {
				if rvs[i] <= rvs[i-1] {
					t.Errorf("events out of resourceVersion order: %v", rvs)
				}
			}
			// Nothing else is pending: the next event is a new write.
			if err := cl.Create(ctx, testConfigMap("marker", nil)); err != nil {
				t.Fatal(err)
			}
			expectEvent(t, w, watch.Added, "marker")
		})
	}
}

// TestStoreWatchExpiry: a watch from a resourceVersion the history no longer
// holds gets 410 Gone, after compaction or when the history is full.
func TestStoreWatchExpiry(t *testing.T) {
	ctx := t.Context()
	watchFrom := func(cl ctrlruntimeclient.WithWatch, rv string) error {
		w, err := cl.Watch(ctx, &corev1.ConfigMapList{}, &ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err == nil {
			w.Stop()
		}
		return err
	}
	expired := func(err error) bool { return apierrors.IsResourceExpired(err) || apierrors.IsGone(err) }

	t.Run("compaction", func(t *testing.T) {
		c := newStoreOnlyCluster(t)
		cl := c.Client("test")
		cm := testConfigMap("cm", nil)
		if err := cl.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		old := cm.ResourceVersion
		cm.Data = map[string]string{"a": "1"}
		if err := cl.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		if err := watchFrom(cl, old); err != nil {
			t.Fatalf("before compaction: %v", err)
		}
		c.ExpireWatchHistory()
		if err := watchFrom(cl, old); !expired(err) {
			t.Errorf("watch from %s after compaction: got %v, want 410", old, err)
		}
		if err := watchFrom(cl, cm.ResourceVersion); err != nil {
			t.Errorf("watch from the current resourceVersion after compaction: %v", err)
		}
		if err := watchFrom(cl, "0"); err != nil {
			t.Errorf("watch from 0 after compaction: %v", err)
		}
	})
	t.Run("bounded history", func(t *testing.T) {
		c := newTestCluster(t, WithWatchHistory(2))
		c.Stop()
		cl := c.Client("test")
		var rvs []string
		for i := range 4 {
			cm := testConfigMap(fmt.Sprint("cm", i), nil)
			if err := cl.Create(ctx, cm); err != nil {
				t.Fatal(err)
			}
			rvs = append(rvs, cm.ResourceVersion)
		}
		// The history holds the last two events: a watch may start from the
		// one before them.
		if err := watchFrom(cl, rvs[1]); err != nil {
			t.Errorf("watch from %s: %v", rvs[1], err)
		}
		if err := watchFrom(cl, rvs[0]); !expired(err) {
			t.Errorf("watch from %s: got %v, want 410", rvs[0], err)
		}
	})
}

// TestStoreCloseWatches: CloseWatches ends every open watch.
func TestStoreCloseWatches(t *testing.T) {
	c := newStoreOnlyCluster(t)
	cl := c.Client("test")
	var ws []watch.Interface
	for _, list := range []ctrlruntimeclient.ObjectList{&corev1.ConfigMapList{}, &imagev1.ImageStreamList{}, &corev1.PodList{}} {
		w, err := cl.Watch(t.Context(), list)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	if n := c.CloseWatches(); n != len(ws) {
		t.Errorf("CloseWatches closed %d watches, want %d", n, len(ws))
	}
	for i, w := range ws {
		select {
		case ev, ok := <-w.ResultChan():
			if ok {
				t.Errorf("watch %d: got %s event, want a closed channel", i, ev.Type)
			}
		case <-time.After(waitTimeout):
			t.Errorf("watch %d was not closed", i)
		}
	}
	if n := c.CloseWatches(); n != 0 {
		t.Errorf("second CloseWatches closed %d watches, want 0", n)
	}
}

// TestStoreUntilWithSyncSurvivesExpiryAndClose: the wait the step uses, an
// informer-backed UntilWithSync narrowed to one name, sees the final state
// although its watch is closed and its resourceVersion compacted mid-wait.
func TestStoreUntilWithSyncSurvivesExpiryAndClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	c := newTestCluster(t)
	cl := c.Client("waiter")
	writer := c.Client("writer")
	createStream(t, writer, newStream("target"))

	var mu sync.Mutex
	var lists int
	var watchErrs []error
	watching := make(chan struct{}, 10)
	selector := fields.OneTermEqualSelector("metadata.name", "target").String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			mu.Lock()
			lists++
			mu.Unlock()
			options.FieldSelector = selector
			list := &imagev1.ImageStreamList{}
			return list, cl.List(ctx, list, ctrlruntimeclient.InNamespace(testNamespace), &ctrlruntimeclient.ListOptions{Raw: &options})
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			options.FieldSelector = selector
			w, err := cl.Watch(ctx, &imagev1.ImageStreamList{}, ctrlruntimeclient.InNamespace(testNamespace), &ctrlruntimeclient.ListOptions{Raw: &options})
			mu.Lock()
			if err != nil && ctx.Err() == nil { // not the informer shutting down
				watchErrs = append(watchErrs, err)
			}
			mu.Unlock()
			if err == nil {
				select {
				case watching <- struct{}{}:
				default:
				}
			}
			return w, err
		},
	}
	done := make(chan error, 1)
	var final *imagev1.ImageStream
	go func() {
		ev, err := toolswatch.UntilWithSync(ctx, lw, &imagev1.ImageStream{}, nil, func(ev watch.Event) (bool, error) {
			is, ok := ev.Object.(*imagev1.ImageStream)
			return ok && is.Annotations["done"] == "true", nil
		})
		if ev != nil {
			final = ev.Object.(*imagev1.ImageStream)
		}
		done <- err
	}()
	select {
	case <-watching:
	case <-ctx.Done():
		t.Fatal("the informer never watched")
	}

	// Move the store past the informer's resourceVersion, compact, and cut
	// the watch: the informer must re-list.
	createStream(t, writer, newStream("unrelated"))
	c.ExpireWatchHistory()
	if n := c.CloseWatches(); n < 1 {
		t.Fatalf("CloseWatches closed %d watches", n)
	}
	updateStream(t, writer, "target", func(is *imagev1.ImageStream) { is.Annotations = map[string]string{"done": "true"} })

	if err := <-done; err != nil {
		t.Fatalf("UntilWithSync: %v", err)
	}
	if final.Annotations["done"] != "true" {
		t.Errorf("final state not seen: %+v", final.Annotations)
	}
	mu.Lock()
	defer mu.Unlock()
	if lists < 2 {
		t.Errorf("informer listed %d times, want a re-list after the expiry", lists)
	}
	for _, err := range watchErrs {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Errorf("unexpected watch error: %v", err)
		}
	}
}
