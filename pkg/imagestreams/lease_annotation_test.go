package imagestreams

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLeaseAnnotationRecords(t *testing.T) {
	type record struct {
		Tags map[string]int `json:"tags"`
	}
	written := &coordinationv1.Lease{}
	WriteLeaseAnnotation(written, "example/record", record{Tags: map[string]int{"cli": 2}})
	testCases := []struct {
		name  string
		lease *coordinationv1.Lease
		want  record
	}{
		{name: "written, then read", lease: written, want: record{Tags: map[string]int{"cli": 2}}},
		{name: "absent: left as it was", lease: &coordinationv1.Lease{}, want: record{Tags: map[string]int{}}},
		{name: "unreadable: left as it was", lease: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"example/record": "{not json"}}}, want: record{Tags: map[string]int{}}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got := record{Tags: map[string]int{}}
			ReadLeaseAnnotation(tc.lease, "example/record", &got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}
