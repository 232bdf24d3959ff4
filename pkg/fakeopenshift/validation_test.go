package fakeopenshift

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// TestApiserverValidatesNamesAndLabels: the apiserver rejects, with 422
// Invalid, names its kind's rule refuses (DNS-1123 subdomain for pods and
// configmaps, openshift-apiserver's repository-name rule for image streams,
// tag names) and invalid label keys or values, on create, update and apply.
func TestApiserverValidatesNamesAndLabels(t *testing.T) {
	longLabel := strings.Repeat("a", 64)
	testCases := []struct {
		name    string
		obj     ctrlruntimeclient.Object
		wantErr string // "" for valid
	}{
		{name: "pod name ok", obj: testPod("release-cli-0a1b2c3d4e")},
		{name: "pod name with capitals", obj: testPod("Release-CLI"), wantErr: "metadata.name"},
		{name: "pod name with underscore", obj: testPod("release_cli"), wantErr: "metadata.name"},
		{name: "configmap name with dots ok", obj: testConfigMap("release.image-references", nil)},
		{name: "configmap name too long", obj: testConfigMap(strings.Repeat("a", 254), nil), wantErr: "metadata.name"},
		{name: "image stream name ok", obj: newStream("stable-initial")},
		{name: "image stream name with capitals", obj: newStream("Stable"), wantErr: "metadata.name"},
		{name: "image stream name with double dash", obj: newStream("stable--x"), wantErr: "metadata.name"},
		{name: "tag name with slash", obj: newStream("s", dockerTag("a/b", missingPullSpec(1))), wantErr: "spec.tags[0].name"},
		{name: "label value too long", obj: withLabels(testConfigMap("cm", nil), map[string]string{"a": longLabel}), wantErr: "metadata.labels"},
		{name: "label value with space", obj: withLabels(testConfigMap("cm", nil), map[string]string{"a": "b c"}), wantErr: "metadata.labels"},
		{name: "label key invalid", obj: withLabels(testConfigMap("cm", nil), map[string]string{"-a": "b"}), wantErr: "metadata.labels"},
		{name: "label ok", obj: withLabels(testConfigMap("cm", nil), map[string]string{"ci.openshift.io/release": "4.18.0-0.nightly"})},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newStoreOnlyCluster(t)
			err := c.Client("p").Create(t.Context(), tc.obj)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("create: %v, want Invalid naming %s", err, tc.wantErr)
			}
		})
	}

	t.Run("update and apply validate labels too", func(t *testing.T) {
		ctx := t.Context()
		c := newStoreOnlyCluster(t)
		cl := c.Client("p")
		cm := testConfigMap("cm", nil)
		if err := cl.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		cm.Labels = map[string]string{"a": "not valid!"}
		if err := cl.Update(ctx, cm); !apierrors.IsInvalid(err) {
			t.Errorf("update: %v, want Invalid", err)
		}
		createStream(t, cl, newStream("s"))
		ac := streamApply("s").WithLabels(map[string]string{"a": "not valid!"})
		if err := applyAs(ctx, cl, ac, "m", true); !apierrors.IsInvalid(err) {
			t.Errorf("apply: %v, want Invalid", err)
		}
	})
}

func withLabels[T metav1.Object](obj T, l map[string]string) T {
	obj.SetLabels(l)
	return obj
}

// TestApiserverLimitsConfigMapSize: data and binaryData together may hold
// 1 MiB (k8s.io/kubernetes ValidateConfigMap); one byte more is 422 Invalid.
func TestApiserverLimitsConfigMapSize(t *testing.T) {
	const limit = 1024 * 1024
	testCases := []struct {
		name    string
		data    int
		binary  int
		invalid bool
	}{
		{name: "data at the limit", data: limit},
		{name: "data over the limit", data: limit + 1, invalid: true},
		{name: "data and binaryData at the limit", data: limit / 2, binary: limit / 2},
		{name: "data and binaryData over the limit", data: limit / 2, binary: limit/2 + 1, invalid: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cm := testConfigMap("cm", map[string]string{"a": strings.Repeat("x", tc.data)})
			if tc.binary > 0 {
				cm.BinaryData = map[string][]byte{"b": make([]byte, tc.binary)}
			}
			err := newStoreOnlyCluster(t).Client("p").Create(t.Context(), cm)
			if got := apierrors.IsInvalid(err); got != tc.invalid || (err != nil && !tc.invalid) {
				t.Fatalf("create: %v, want invalid %v", err, tc.invalid)
			}
		})
	}
}
