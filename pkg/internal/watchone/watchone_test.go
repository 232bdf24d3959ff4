package watchone_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/internal/watchone"
)

func TestUntil(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "cm"}
	other := types.NamespacedName{Namespace: "ns", Name: "other"}
	testCases := []struct {
		name string
		// object is a ConfigMap created (data step=0) before the wait starts
		// and updated (step=1) during it.
		object     types.NamespacedName
		wantEvents []string
		wantErr    bool
	}{
		{
			name:       "done when the object shows the value",
			object:     key,
			wantEvents: []string{"ADDED 0", "MODIFIED 1"},
		},
		{
			name:       "other objects are not seen; the wait stalls",
			object:     other,
			wantEvents: []string{"ABSENT "},
			wantErr:    true,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cluster := fakeopenshift.New(t.Context())
			t.Cleanup(cluster.Stop)
			client := cluster.Client("test")
			first := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tc.object.Namespace, Name: tc.object.Name}, Data: map[string]string{"step": "0"}}
			if err := client.Create(t.Context(), first); err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(50 * time.Millisecond)
				second := first.DeepCopy()
				second.Data["step"] = "1"
				_ = client.Update(t.Context(), second)
			}()
			var seen []string
			target := watchone.Target{Client: client, Key: key, List: &corev1.ConfigMapList{}, Object: &corev1.ConfigMap{}}
			_, err := watchone.Until(t.Context(), target, time.Second, func(ev watch.Event) (bool, bool, error) {
				cm := ev.Object.(*corev1.ConfigMap)
				seen = append(seen, string(ev.Type)+" "+cm.Data["step"])
				return true, cm.Data["step"] == "1", nil
			})
			var stalled *watchone.StalledError
			if tc.wantErr != errors.As(err, &stalled) {
				t.Fatalf("Until returned %v, want a stall: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				want := &watchone.StalledError{Key: key, Kind: "ConfigMap", Timeout: time.Second}
				if diff := cmp.Diff(want, stalled); diff != "" {
					t.Errorf("StalledError (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.wantEvents, seen); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUntilStopsWithTheContext(t *testing.T) {
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	target := watchone.Target{Client: cluster.Client("test"), Key: types.NamespacedName{Namespace: "ns", Name: "cm"}, List: &corev1.ConfigMapList{}, Object: &corev1.ConfigMap{}}
	_, err := watchone.Until(ctx, target, 0, func(watch.Event) (bool, bool, error) { return false, false, nil })
	var stalled *watchone.StalledError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &stalled) {
		t.Errorf("Until returned %v, want the context's deadline and no stall", err)
	}
}
