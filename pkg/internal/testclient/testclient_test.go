package testclient

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// TestSelectorBlindWatchSeesOtherObjects: the fake honours a name selector;
// through SelectorBlind the watch also gets the other object's event.
func TestSelectorBlindWatchSeesOtherObjects(t *testing.T) {
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	c := cluster.Client("test")
	selector := ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", "mine")}
	for _, tc := range []struct {
		name, namespace string
		client          ctrlruntimeclient.WithWatch
		want            []string
	}{
		{name: "selector honoured", namespace: "honoured", client: c, want: []string{"mine"}},
		{name: "selector blind", namespace: "blind", client: SelectorBlind(c), want: []string{"other", "mine"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.namespace
			w, err := tc.client.Watch(t.Context(), &corev1.ConfigMapList{}, ctrlruntimeclient.InNamespace(ns), selector)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			for _, name := range []string{"other", "mine"} {
				if err := c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for ev := range w.ResultChan() {
				if ev.Type != watch.Added {
					continue
				}
				got = append(got, ev.Object.(*corev1.ConfigMap).Name)
				if got[len(got)-1] == "mine" {
					break
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("the watch got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("the watch got %v, want %v", got, tc.want)
				}
			}
		})
	}
}
