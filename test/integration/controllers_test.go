//go:build integration

package integration

import (
	"context"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// eventually polls cond until it holds, or fails the test with what.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// newControllers starts the fake's controllers against the shared apiserver
// with a namespace of the test's own.
func newControllers(t *testing.T, latency fakeopenshift.Latency) (*fakeopenshift.Cluster, string) {
	t.Helper()
	client := newClient(t)
	namespace := newNamespace(t, client)
	cluster := fakeopenshift.NewControllers(t.Context(), client, fakeopenshift.WithLatency(latency))
	t.Cleanup(cluster.Stop)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "default"}}
	if err := client.Create(t.Context(), sa); err != nil {
		t.Fatalf("could not create the default service account: %v", err)
	}
	return cluster, namespace
}

// TestKubeletOnKubeAPIServer: the kubelet binds a pod through pods/binding
// (no scheduler runs), writes its status through the status subresource,
// and confirms the graceful deletion of a bound pod with a delete of grace
// period 0.
func TestKubeletOnKubeAPIServer(t *testing.T) {
	cluster, namespace := newControllers(t, fakeopenshift.Latency{TimeScale: 1})
	client := cluster.Client("test")
	payload := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
				Name: "cli", Image: payload.PullSpec,
				Command: []string{"/bin/sh", "-c", "cluster-version-operator image cli > /dev/termination-log"},
			}}},
		}
	}

	if err := client.Create(t.Context(), pod("cli")); err != nil {
		t.Fatal(err)
	}
	done := &corev1.Pod{}
	eventually(t, "pod cli to succeed", func() bool {
		return client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: "cli"}, done) == nil && done.Status.Phase == corev1.PodSucceeded
	})
	if done.Spec.NodeName != fakeopenshift.NodeName {
		t.Errorf("pod bound to %q, want %q", done.Spec.NodeName, fakeopenshift.NodeName)
	}
	if got := done.Status.ContainerStatuses[0].State.Terminated.Message; got != payload.CLIPullSpec {
		t.Errorf("termination message %q, want %q", got, payload.CLIPullSpec)
	}

	// A container that ignores SIGTERM runs out its grace period.
	cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: "hang", Action: fakeopenshift.PodHang})
	if err := client.Create(t.Context(), pod("hang")); err != nil {
		t.Fatal(err)
	}
	hang := &corev1.Pod{}
	key := ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: "hang"}
	eventually(t, "pod hang to run", func() bool {
		return client.Get(t.Context(), key, hang) == nil && hang.Status.Phase == corev1.PodRunning
	})
	if err := client.Delete(t.Context(), hang, ctrlruntimeclient.GracePeriodSeconds(2)); err != nil {
		t.Fatal(err)
	}
	if err := client.Get(t.Context(), key, hang); err != nil || hang.DeletionTimestamp == nil {
		t.Errorf("a bound pod was not left Terminating by its deletion: %v, deletionTimestamp %v", err, hang.DeletionTimestamp)
	}
	eventually(t, "the kubelet to remove pod hang", func() bool {
		return apierrors.IsNotFound(client.Get(t.Context(), key, &corev1.Pod{}))
	})
}

// TestImportControllerOnKubeAPIServer: the import controller imports a new
// tag once, records a failure as OpenShift does, imports a re-pointed tag
// again, and retries an import whose status write lost to a concurrent
// write of the stream (409).
func TestImportControllerOnKubeAPIServer(t *testing.T) {
	cluster, namespace := newControllers(t, fakeopenshift.Latency{})
	client := cluster.Client("test")
	payload := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))
	key := ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: "stream"}
	tag := func(name, from string) imagev1.TagReference {
		return imagev1.TagReference{Name: name, From: &corev1.ObjectReference{Kind: "DockerImage", Name: from}}
	}
	missing := cluster.Registry().Host() + "/ocp/missing:1"
	stream := &imagev1.ImageStream{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "stream"},
		Spec:       imagev1.ImageStreamSpec{Tags: []imagev1.TagReference{tag("a", payload.Tags[0].PullSpec), tag("missing", missing)}},
	}
	if err := client.Create(t.Context(), stream); err != nil {
		t.Fatal(err)
	}
	is := &imagev1.ImageStream{}
	settled := func(want ...imagestreams.Phase) func() bool {
		return func() bool {
			if client.Get(t.Context(), key, is) != nil {
				return false
			}
			for i, phase := range want {
				if imagestreams.StateOf(is, is.Spec.Tags[i].Name).Phase != phase {
					return false
				}
			}
			return true
		}
	}
	eventually(t, "a imported and missing failed", settled(imagestreams.Imported, imagestreams.Failed))
	cond := is.Status.Tags[1].Conditions
	if len(cond) != 1 || cond[0].Reason != string(registry.ReasonNotFound) || cond[0].Generation != 1 {
		t.Errorf("the failed tag's conditions are %+v, want one NotFound for generation 1", cond)
	}
	if want := "registry.fake-cluster.test/" + namespace + "/stream"; is.Status.PublicDockerImageRepository != want {
		t.Errorf("public repository %q, want %q", is.Status.PublicDockerImageRepository, want)
	}

	// Re-pointing a tag imports it again, for its new generation. The
	// import is slow, and a write of the stream while it runs makes its
	// status write conflict: it is resolved again and written once.
	remove := cluster.Registry().AddFault(registry.FaultRule{PullSpec: payload.Tags[1].PullSpec, Latency: 2 * time.Second})
	defer remove()
	is.Spec.Tags[0].From.Name = payload.Tags[1].PullSpec
	if err := client.Update(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	is.Labels = map[string]string{"written": "during-the-import"}
	if err := client.Update(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a imported again", settled(imagestreams.Imported, imagestreams.Failed))
	if got := is.Status.Tags[0].Items[0].Image; got != payload.Tags[1].Digest {
		t.Errorf("a imported %s, want %s", got, payload.Tags[1].Digest)
	}
	stats := cluster.Stats()
	tagKey := func(tag string) fakeopenshift.TagKey {
		return fakeopenshift.TagKey{Namespace: namespace, Stream: "stream", Tag: tag}
	}
	if got := stats.Imports[tagKey("a")]; got != 2 {
		t.Errorf("a imported %d times, want twice (two generations)", got)
	}
	if got := stats.Imports[tagKey("missing")]; got != 1 {
		t.Errorf("missing imported %d times, want once: a failure is not retried", got)
	}
	if stats.ImportConflicts == 0 {
		t.Errorf("no import conflicted with the write during the import")
	}
}
