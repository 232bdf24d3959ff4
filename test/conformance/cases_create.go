package conformance

import (
	"strings"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// testAlreadyExists: creating a name that is taken is a 409 AlreadyExists
// that leaves the object alone.
func testAlreadyExists(t *testing.T, env Env) {
	first := newStream(env.Namespace, "stream", referenceTag("a1", 1))
	create(t, env, first)
	second := newStream(env.Namespace, "stream", referenceTag("a1", 2))
	if err := env.Client.Create(ctx(t), second, owner); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create of an existing image stream: want AlreadyExists, got %v", err)
	}
	if got := getStream(t, env, "stream"); got.ResourceVersion != first.ResourceVersion || specTags(got)["a1"] != pullSpec("a1", 1) {
		t.Errorf("a refused create changed the stream: resourceVersion %s -> %s, tags %v", first.ResourceVersion, got.ResourceVersion, specTags(got))
	}
	create(t, env, newPod(env.Namespace, "pod", ""))
	if err := env.Client.Create(ctx(t), newPod(env.Namespace, "pod", ""), owner); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create of an existing pod: want AlreadyExists, got %v", err)
	}
}

// testNameValidation: names that are not DNS subdomains are refused with
// 422 Invalid; valid ones are accepted. Image streams get only names that
// openshift-apiserver refuses too: it allows some that are not DNS
// subdomains (under_score), which the custom resource refuses.
func testNameValidation(t *testing.T, env Env) {
	invalid := []struct {
		name   string
		stream bool // whether an image stream of that name is refused too
	}{
		{"Upper_Case", true}, {"-leading-dash", true}, {"trailing-dash-", true},
		{"under_score", false}, {strings.Repeat("a", 254), false},
	}
	for _, tc := range invalid {
		name := tc.name
		objects := []ctrlruntimeclient.Object{
			newPod(env.Namespace, name, ""),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace, Name: name}},
		}
		if tc.stream {
			objects = append(objects, newStream(env.Namespace, name))
		}
		for _, obj := range objects {
			if err := env.Client.Create(ctx(t), obj, owner); !apierrors.IsInvalid(err) {
				t.Errorf("create %T named %.20q (%d characters): want Invalid, got %v", obj, name, len(name), err)
			}
		}
	}
	for _, name := range []string{"a", "a.b-c", "release-4.18", strings.Repeat("a", 63)} {
		create(t, env, newStream(env.Namespace, name))
		create(t, env, newPod(env.Namespace, name, ""))
	}
	streams := &imagev1.ImageStreamList{}
	if err := env.Client.List(ctx(t), streams, ctrlruntimeclient.InNamespace(env.Namespace)); err != nil || len(streams.Items) != 4 {
		t.Errorf("image streams after the creates: %d, err %v; want the 4 valid ones", len(streams.Items), err)
	}
}
