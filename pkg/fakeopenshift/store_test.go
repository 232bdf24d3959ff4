package fakeopenshift

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
)

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: "registry.fake.openshift.test/ocp/release:x", Command: []string{"true"}}},
		},
	}
}

func testConfigMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}, Data: data}
}

// TestStoreResourceVersionChangesOnlyOnRealWrites: every real write gets a
// new, larger resourceVersion and one watch event; an identical update gets
// neither.
func TestStoreResourceVersionChangesOnlyOnRealWrites(t *testing.T) {
	testCases := []struct {
		name   string
		object func(name string) ctrlruntimeclient.Object
		list   ctrlruntimeclient.ObjectList
		change func(ctrlruntimeclient.Object)
	}{
		{
			name:   "configmap data",
			object: func(name string) ctrlruntimeclient.Object { return testConfigMap(name, map[string]string{"a": "1"}) },
			list:   &corev1.ConfigMapList{},
			change: func(o ctrlruntimeclient.Object) { o.(*corev1.ConfigMap).Data["a"] = "2" },
		},
		{
			name:   "image stream tag",
			object: func(name string) ctrlruntimeclient.Object { return newStream(name, dockerTag("t", "quay.io/a/b:1")) },
			list:   &imagev1.ImageStreamList{},
			change: func(o ctrlruntimeclient.Object) { o.(*imagev1.ImageStream).Spec.Tags[0].From.Name = "quay.io/a/b:2" },
		},
		{
			name:   "pod labels",
			object: func(name string) ctrlruntimeclient.Object { return testPod(name) },
			list:   &corev1.PodList{},
			change: func(o ctrlruntimeclient.Object) { o.SetLabels(map[string]string{"changed": "true"}) },
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			obj := tc.object("subject")
			if err := cl.Create(t.Context(), obj); err != nil {
				t.Fatalf("create: %v", err)
			}
			created := rvOf(t, obj)
			w, err := cl.Watch(t.Context(), tc.list, ctrlruntimeclient.InNamespace(testNamespace),
				&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: obj.GetResourceVersion()}})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer w.Stop()

			if err := cl.Update(t.Context(), obj); err != nil {
				t.Fatalf("identical update: %v", err)
			}
			if got := rvOf(t, obj); got != created {
				t.Errorf("identical update changed resourceVersion %d -> %d", created, got)
			}
			tc.change(obj)
			if err := cl.Update(t.Context(), obj); err != nil {
				t.Fatalf("update: %v", err)
			}
			changed := rvOf(t, obj)
			if changed <= created {
				t.Errorf("real update: resourceVersion %d -> %d, want larger", created, changed)
			}
			if err := cl.Update(t.Context(), obj); err != nil {
				t.Fatalf("second identical update: %v", err)
			}
			if got := rvOf(t, obj); got != changed {
				t.Errorf("second identical update changed resourceVersion %d -> %d", changed, got)
			}

			// A marker write proves there was no event in between.
			if err := cl.Create(t.Context(), tc.object("marker")); err != nil {
				t.Fatalf("create marker: %v", err)
			}
			if got := expectEvent(t, w, watch.Modified, "subject"); rvOf(t, got) != changed {
				t.Errorf("MODIFIED event has resourceVersion %s, want %d", got.GetResourceVersion(), changed)
			}
			expectEvent(t, w, watch.Added, "marker")
		})
	}
}

// TestStoreMetadataGeneration: pods start at generation 1 and move on
// allowed spec changes only; configmaps have no generation.
func TestStoreMetadataGeneration(t *testing.T) {
	cl := newStoreOnlyCluster(t).Client("test")
	pod := testPod("pod")
	if err := cl.Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	cm := testConfigMap("cm", map[string]string{"a": "1"})
	if err := cl.Create(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	if pod.Generation != 1 || cm.Generation != 0 {
		t.Fatalf("after create: pod generation %d, configmap generation %d; want 1 and 0", pod.Generation, cm.Generation)
	}

	testCases := []struct {
		name    string
		obj     ctrlruntimeclient.Object
		change  func(ctrlruntimeclient.Object)
		wantErr func(error) bool
		wantGen int64
	}{
		{name: "pod label change", obj: pod, change: func(o ctrlruntimeclient.Object) { o.SetLabels(map[string]string{"a": "b"}) }, wantGen: 1},
		{name: "pod activeDeadlineSeconds", obj: pod, change: func(o ctrlruntimeclient.Object) {
			o.(*corev1.Pod).Spec.ActiveDeadlineSeconds = ptrTo[int64](600)
		}, wantGen: 2},
		{name: "pod container image", obj: pod, change: func(o ctrlruntimeclient.Object) {
			o.(*corev1.Pod).Spec.Containers[0].Image = "registry.fake.openshift.test/ocp/release:y"
		}, wantGen: 3},
		{name: "pod identical", obj: pod, change: func(ctrlruntimeclient.Object) {}, wantGen: 3},
		{name: "pod command is immutable", obj: pod, change: func(o ctrlruntimeclient.Object) {
			o.(*corev1.Pod).Spec.Containers[0].Command = []string{"false"}
		}, wantErr: apierrors.IsInvalid, wantGen: 3},
		{name: "configmap data change", obj: cm, change: func(o ctrlruntimeclient.Object) { o.(*corev1.ConfigMap).Data["a"] = "2" }, wantGen: 0},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.obj.DeepCopyObject().(ctrlruntimeclient.Object)
			if err := cl.Get(t.Context(), ctrlruntimeclient.ObjectKeyFromObject(obj), obj); err != nil {
				t.Fatal(err)
			}
			tc.change(obj)
			err := cl.Update(t.Context(), obj)
			switch {
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Fatalf("got error %v, want a different one", err)
			case tc.wantErr == nil && err != nil:
				t.Fatalf("update: %v", err)
			}
			if err := cl.Get(t.Context(), ctrlruntimeclient.ObjectKeyFromObject(obj), obj); err != nil {
				t.Fatal(err)
			}
			if obj.GetGeneration() != tc.wantGen {
				t.Errorf("generation %d, want %d", obj.GetGeneration(), tc.wantGen)
			}
		})
	}
}

// TestStoreOptimisticConcurrency: a write carrying a stale resourceVersion
// is a 409 whatever the verb; an image stream cannot be updated without one.
func TestStoreOptimisticConcurrency(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	cm := testConfigMap("cm", map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	stale := cm.DeepCopy()
	cm.Data["a"] = "2"
	if err := cl.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	is := createStream(t, cl, newStream("is", dockerTag("t", "quay.io/a/b:1")))
	staleIS := is.DeepCopy()
	is.Labels = map[string]string{"a": "b"}
	if err := cl.Update(ctx, is); err != nil {
		t.Fatal(err)
	}

	testCases := []struct {
		name    string
		write   func() error
		wantErr func(error) bool
	}{
		{name: "update", wantErr: apierrors.IsConflict, write: func() error {
			obj := stale.DeepCopy()
			obj.Data["a"] = "3"
			return cl.Update(ctx, obj)
		}},
		{name: "identical update with a stale resourceVersion", wantErr: apierrors.IsConflict, write: func() error {
			return cl.Update(ctx, stale.DeepCopy())
		}},
		{name: "merge patch with optimistic lock", wantErr: apierrors.IsConflict, write: func() error {
			obj := stale.DeepCopy()
			obj.Data["a"] = "3"
			return cl.Patch(ctx, obj, ctrlruntimeclient.MergeFromWithOptions(stale, ctrlruntimeclient.MergeFromWithOptimisticLock{}))
		}},
		{name: "delete with resourceVersion precondition", wantErr: apierrors.IsConflict, write: func() error {
			return cl.Delete(ctx, stale.DeepCopy(), ctrlruntimeclient.Preconditions{ResourceVersion: &stale.ResourceVersion})
		}},
		{name: "apply with resourceVersion", wantErr: apierrors.IsConflict, write: func() error {
			ac := corev1apply.ConfigMap("cm", testNamespace).WithResourceVersion(stale.ResourceVersion).WithData(map[string]string{"a": "4"})
			return cl.Apply(ctx, ac, ctrlruntimeclient.FieldOwner("test"))
		}},
		{name: "image stream status update", wantErr: apierrors.IsConflict, write: func() error {
			return cl.Status().Update(ctx, staleIS.DeepCopy())
		}},
		{name: "image stream update without resourceVersion", wantErr: apierrors.IsInvalid, write: func() error {
			obj := staleIS.DeepCopy()
			obj.ResourceVersion = ""
			obj.Labels = map[string]string{"c": "d"}
			return cl.Update(ctx, obj)
		}},
		{name: "configmap update without resourceVersion lands", write: func() error {
			obj := stale.DeepCopy()
			obj.ResourceVersion = ""
			obj.Data["a"] = "5"
			return cl.Update(ctx, obj)
		}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got %v, want success", err)
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Fatalf("got %v, want a different error", err)
			}
		})
	}
	got := &corev1.ConfigMap{}
	if err := cl.Get(ctx, key("cm"), got); err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "5" {
		t.Errorf("configmap data %v; only the unconditional update should have landed", got.Data)
	}
}

// TestStoreStatusSubresource: status changes only through the status
// subresource, and the status subresource changes only status.
func TestStoreStatusSubresource(t *testing.T) {
	ctx := t.Context()
	digest := "sha256:" + fmt.Sprintf("%064x", 1)
	testCases := []struct {
		name   string
		create ctrlruntimeclient.Object
		// main changes spec and status and writes through the main resource;
		// status does the same through the status subresource.
		main, status func(ctrlruntimeclient.Object)
		// check inspects the object after both writes.
		check func(t *testing.T, obj ctrlruntimeclient.Object)
	}{
		{
			name:   "image stream",
			create: newStream("is", dockerTag("t", "quay.io/a/b:1")),
			main: func(o ctrlruntimeclient.Object) {
				is := o.(*imagev1.ImageStream)
				is.Status.Tags = []imagev1.NamedTagEventList{{Tag: "main", Items: []imagev1.TagEvent{{Image: digest, Generation: 1}}}}
			},
			status: func(o ctrlruntimeclient.Object) {
				is := o.(*imagev1.ImageStream)
				is.Spec.Tags[0].From.Name = "quay.io/a/b:status"
				is.Status.Tags = []imagev1.NamedTagEventList{{Tag: "t", Items: []imagev1.TagEvent{{Image: digest, DockerImageReference: "quay.io/a/b@" + digest, Generation: 1}}}}
			},
			check: func(t *testing.T, o ctrlruntimeclient.Object) {
				is := o.(*imagev1.ImageStream)
				if from := specTagOf(t, is, "t").From.Name; from != "quay.io/a/b:1" {
					t.Errorf("status update changed spec: from %s", from)
				}
				if len(is.Status.Tags) != 1 || is.Status.Tags[0].Tag != "t" || is.Status.Tags[0].Items[0].Image != digest {
					t.Errorf("status %+v, want only the status update's tag t", is.Status.Tags)
				}
				if is.Generation != 1 {
					t.Errorf("generation %d, want 1", is.Generation)
				}
			},
		},
		{
			name:   "pod",
			create: testPod("pod"),
			main: func(o ctrlruntimeclient.Object) {
				o.(*corev1.Pod).Status.Phase = corev1.PodSucceeded
			},
			status: func(o ctrlruntimeclient.Object) {
				pod := o.(*corev1.Pod)
				pod.Spec.ActiveDeadlineSeconds = ptrTo[int64](1)
				pod.Status.Phase = corev1.PodRunning
			},
			check: func(t *testing.T, o ctrlruntimeclient.Object) {
				pod := o.(*corev1.Pod)
				if pod.Status.Phase != corev1.PodRunning {
					t.Errorf("phase %s, want Running from the status update", pod.Status.Phase)
				}
				if pod.Spec.ActiveDeadlineSeconds != nil || pod.Generation != 1 {
					t.Errorf("status update changed spec: activeDeadlineSeconds %v, generation %d", pod.Spec.ActiveDeadlineSeconds, pod.Generation)
				}
			},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			obj := tc.create
			if err := cl.Create(ctx, obj); err != nil {
				t.Fatal(err)
			}
			rv := obj.GetResourceVersion()
			tc.main(obj)
			if err := cl.Update(ctx, obj); err != nil {
				t.Fatalf("main resource update: %v", err)
			}
			if obj.GetResourceVersion() != rv {
				t.Errorf("a main resource update that changes only status wrote: resourceVersion %s -> %s", rv, obj.GetResourceVersion())
			}
			tc.status(obj)
			if err := cl.Status().Update(ctx, obj); err != nil {
				t.Fatalf("status update: %v", err)
			}
			if err := cl.Get(ctx, ctrlruntimeclient.ObjectKeyFromObject(obj), obj); err != nil {
				t.Fatal(err)
			}
			tc.check(t, obj)
		})
	}
	t.Run("configmap has no status", func(t *testing.T) {
		cl := newStoreOnlyCluster(t).Client("test")
		cm := testConfigMap("cm", nil)
		if err := cl.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		if err := cl.Status().Update(ctx, cm); !apierrors.IsNotFound(err) {
			t.Errorf("status update of a configmap: got %v, want 404", err)
		}
	})
}

// TestStoreImmutableConfigMap: an immutable configmap keeps its data.
func TestStoreImmutableConfigMap(t *testing.T) {
	testCases := []struct {
		name    string
		change  func(*corev1.ConfigMap)
		wantErr bool
		wantRV  bool // whether the resourceVersion changes
	}{
		{name: "data", change: func(cm *corev1.ConfigMap) { cm.Data["a"] = "2" }, wantErr: true},
		{name: "new key", change: func(cm *corev1.ConfigMap) { cm.Data["b"] = "1" }, wantErr: true},
		{name: "binaryData", change: func(cm *corev1.ConfigMap) { cm.BinaryData = map[string][]byte{"c": {1}} }, wantErr: true},
		{name: "immutable reset", change: func(cm *corev1.ConfigMap) { cm.Immutable = ptrTo(false) }, wantErr: true},
		{name: "identical", change: func(*corev1.ConfigMap) {}},
		{name: "labels", change: func(cm *corev1.ConfigMap) { cm.Labels = map[string]string{"a": "b"} }, wantRV: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newStoreOnlyCluster(t).Client("test")
			cm := testConfigMap("cm", map[string]string{"a": "1"})
			cm.Immutable = ptrTo(true)
			if err := cl.Create(t.Context(), cm); err != nil {
				t.Fatal(err)
			}
			rv := cm.ResourceVersion
			tc.change(cm)
			err := cl.Update(t.Context(), cm)
			if tc.wantErr != apierrors.IsInvalid(err) || (!tc.wantErr && err != nil) {
				t.Fatalf("got %v, want invalid: %t", err, tc.wantErr)
			}
			got := &corev1.ConfigMap{}
			if err := cl.Get(t.Context(), key("cm"), got); err != nil {
				t.Fatal(err)
			}
			if got.Data["a"] != "1" || len(got.Data) != 1 || got.BinaryData != nil {
				t.Errorf("immutable data changed: %v %v", got.Data, got.BinaryData)
			}
			if (got.ResourceVersion != rv) != tc.wantRV {
				t.Errorf("resourceVersion %s -> %s, want change: %t", rv, got.ResourceVersion, tc.wantRV)
			}
		})
	}
}

// TestStoreListSelectors: label and field selectors, typed or as the raw
// strings a ListWatch passes; an unsupported field label is a 400.
func TestStoreListSelectors(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: testNamespace, Labels: map[string]string{"app": "x"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: testNamespace, Labels: map[string]string{"app": "y"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "other", Labels: map[string]string{"app": "x"}}},
	} {
		if err := cl.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	testCases := []struct {
		name    string
		opts    []ctrlruntimeclient.ListOption
		want    []string
		wantErr func(error) bool
	}{
		{name: "all namespaces", want: []string{"ci-op-test/a", "ci-op-test/b", "other/a"}},
		{name: "namespace", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(testNamespace)}, want: []string{"ci-op-test/a", "ci-op-test/b"}},
		{name: "label", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingLabels{"app": "x"}}, want: []string{"ci-op-test/a", "other/a"}},
		{name: "label set-based", opts: []ctrlruntimeclient.ListOption{&ctrlruntimeclient.ListOptions{LabelSelector: mustSelector(t, "app in (y,z)")}}, want: []string{"ci-op-test/b"}},
		{name: "metadata.name", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingFields{"metadata.name": "a"}}, want: []string{"ci-op-test/a", "other/a"}},
		{name: "metadata.namespace", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingFields{"metadata.namespace": "other"}}, want: []string{"other/a"}},
		{name: "metadata.name!=", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(testNamespace), ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermNotEqualSelector("metadata.name", "a")}}, want: []string{"ci-op-test/b"}},
		{name: "raw selectors", opts: []ctrlruntimeclient.ListOption{&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{LabelSelector: "app=x", FieldSelector: "metadata.namespace=ci-op-test"}}}, want: []string{"ci-op-test/a"}},
		{name: "unsupported field label", opts: []ctrlruntimeclient.ListOption{ctrlruntimeclient.MatchingFields{"data.a": "1"}}, wantErr: apierrors.IsBadRequest},
		{name: "unsupported raw field label", opts: []ctrlruntimeclient.ListOption{&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{FieldSelector: "spec.x=1"}}}, wantErr: apierrors.IsBadRequest},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			list := &corev1.ConfigMapList{}
			err := cl.List(ctx, list, tc.opts...)
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("got %v, want a different error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, cm := range list.Items {
				got = append(got, cm.Namespace+"/"+cm.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if list.ResourceVersion == "" {
				t.Error("list has no resourceVersion")
			}
		})
	}
}

func mustSelector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
