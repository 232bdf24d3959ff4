package fakeopenshift

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

func programPod(name, image string, command ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: image, Command: command}},
		},
	}
}

// podDone reports whether the pod has finished.
func podDone(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// watchPod follows a pod the test created, from its creation on, until cond
// holds, and returns the phases it went through and the pod as it was then.
func watchPod(t *testing.T, cl ctrlruntimeclient.WithWatch, created *corev1.Pod, cond func(*corev1.Pod) bool) ([]corev1.PodPhase, *corev1.Pod) {
	t.Helper()
	phases := []corev1.PodPhase{created.Status.Phase}
	if cond(created) {
		return phases, created
	}
	w, err := cl.Watch(t.Context(), &corev1.PodList{}, ctrlruntimeclient.InNamespace(testNamespace),
		ctrlruntimeclient.MatchingFields{"metadata.name": created.Name},
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: created.ResourceVersion}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	timeout := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch of pod %s closed", created.Name)
			}
			pod := ev.Object.(*corev1.Pod)
			if phases[len(phases)-1] != pod.Status.Phase {
				phases = append(phases, pod.Status.Phase)
			}
			if cond(pod) {
				return phases, pod
			}
		case <-timeout:
			t.Fatalf("timed out waiting for pod %s; phases %v", created.Name, phases)
		}
	}
}

// createPod creates the pod or fails the test.
func createPod(t *testing.T, cl ctrlruntimeclient.Client, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	if err := cl.Create(t.Context(), pod); err != nil {
		t.Fatalf("could not create pod %s: %v", pod.Name, err)
	}
	return pod
}

func terminated(t *testing.T, pod *corev1.Pod) *corev1.ContainerStateTerminated {
	t.Helper()
	if len(pod.Status.ContainerStatuses) != 1 || pod.Status.ContainerStatuses[0].State.Terminated == nil {
		t.Fatalf("pod %s has no terminated container: %+v", pod.Name, pod.Status.ContainerStatuses)
	}
	return pod.Status.ContainerStatuses[0].State.Terminated
}

func TestKubeletRunsClusterVersionOperatorImageCLI(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 3)
	cl := c.Client("step")
	pod := createPod(t, cl, programPod("cli-image", rel.PullSpec, "/bin/sh", "-c", "/usr/bin/cluster-version-operator image cli > /dev/termination-log"))
	if pod.Status.Phase != corev1.PodPending || pod.Generation != 1 || pod.Spec.ServiceAccountName != "default" {
		t.Errorf("created pod: phase %s, generation %d, serviceAccount %q", pod.Status.Phase, pod.Generation, pod.Spec.ServiceAccountName)
	}
	phases, done := watchPod(t, cl, pod, podDone)
	if fmt.Sprint(phases) != "[Pending Running Succeeded]" {
		t.Errorf("phases %v", phases)
	}
	term := terminated(t, done)
	if term.ExitCode != 0 || term.Reason != "Completed" || term.Message != rel.CLIPullSpec {
		t.Errorf("terminated %+v, want exit 0 with message %s", term, rel.CLIPullSpec)
	}
	if done.Status.StartTime == nil || done.Status.ContainerStatuses[0].ImageID == "" {
		t.Errorf("status lacks startTime or imageID: %+v", done.Status)
	}
	if done.Generation != 1 {
		t.Errorf("status writes moved the generation to %d", done.Generation)
	}
	if n := c.Stats().PodsCreated[testNamespace+"/"+pod.Name]; n != 1 {
		t.Errorf("PodsCreated %d", n)
	}

	// Run directly, the program only prints: a kubelet does not make the
	// log of a container that succeeded its termination message, whatever
	// the policy.
	for _, policy := range []corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError} {
		direct := programPod("cli-direct-"+strings.ToLower(string(policy)), rel.PullSpec, "/usr/bin/cluster-version-operator", "image", "cli")
		direct.Spec.Containers[0].TerminationMessagePolicy = policy
		_, done := watchPod(t, cl, createPod(t, cl, direct), podDone)
		if term := terminated(t, done); done.Status.Phase != corev1.PodSucceeded || term.Message != "" {
			t.Errorf("policy %s: phase %s, message %q; want Succeeded with no message", policy, done.Status.Phase, term.Message)
		}
	}
}

// extractScript is the shell the import step runs in the cli image: it
// extracts image-references into a configmap, tolerating one that exists.
func extractScript(payload string) string {
	return strings.Join([]string{
		"set -o errexit -o nounset -o pipefail",
		"oc adm release extract --from=" + payload + " --file=image-references > /tmp/image-references",
		"oc create configmap release-initial --from-file=image-references=/tmp/image-references --dry-run=client -o json > /tmp/cm.json",
		`oc patch --local --type=merge -f /tmp/cm.json -o json -p '{"metadata":{"labels":{"release":"initial"}}}' > /tmp/labelled.json`,
		"oc create -f /tmp/labelled.json > /dev/termination-log \\",
		"  || oc get -f /tmp/labelled.json -o name > /dev/termination-log",
	}, "\n")
}

func TestKubeletRunsShellScriptsInTheCLIImage(t *testing.T) {
	ctx := t.Context()
	c := newTestCluster(t)
	rel := addRelease(c, 3)
	cl := c.Client("step")
	testCases := []struct {
		name        string
		wantMessage string
	}{
		{name: "first", wantMessage: "configmap/release-initial created\n"},
		{name: "second", wantMessage: "configmap/release-initial\n"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			pod := createPod(t, cl, programPod("extract-"+tc.name, rel.CLIPullSpec, "/bin/bash", "-c", extractScript(rel.PullSpec)))
			_, done := watchPod(t, cl, pod, podDone)
			term := terminated(t, done)
			if done.Status.Phase != corev1.PodSucceeded || term.Message != tc.wantMessage {
				t.Fatalf("phase %s, terminated %+v; want Succeeded with %q", done.Status.Phase, term, tc.wantMessage)
			}
			if n := c.Stats().Requests[RequestKey{"pod/" + testNamespace + "/" + pod.Name, "create", "ConfigMap"}]; n != 1 {
				t.Errorf("the pod created the configmap %d times, want 1", n)
			}
		})
	}
	cm := &corev1.ConfigMap{}
	if err := cl.Get(ctx, key("release-initial"), cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["image-references"] != string(rel.ImageReferences()) || cm.Labels["release"] != "initial" {
		t.Errorf("configmap labels %v, data matches image-references: %t", cm.Labels, cm.Data["image-references"] == string(rel.ImageReferences()))
	}
}

func TestKubeletFailsWhatItCannotRun(t *testing.T) {
	c := newTestCluster(t)
	rel := addRelease(c, 3)
	cl := c.Client("step")
	testCases := []struct {
		name        string
		pod         *corev1.Pod
		wantMessage string
	}{
		{name: "cvo in a component image", pod: programPod("cvo-component", rel.Tags[1].PullSpec, "cluster-version-operator", "image", "cli"),
			wantMessage: "is not a release payload image"},
		{name: "other cvo command", pod: programPod("cvo-other", rel.PullSpec, "cluster-version-operator", "start"),
			wantMessage: "unsupported cluster-version-operator command"},
		{name: "oc in the payload", pod: programPod("shell-payload", rel.PullSpec, "/bin/sh", "-c", "oc version"),
			wantMessage: "is not a CLI image"},
		{name: "unsupported shell line", pod: programPod("shell-unsupported", rel.CLIPullSpec, "/bin/sh", "-c", "curl http://example.test"),
			wantMessage: "unsupported command"},
		{name: "failing extract", pod: programPod("shell-extract", rel.CLIPullSpec, "/bin/sh", "-c", "oc adm release extract --from="+missingPullSpec(8)+" --file=image-references"),
			wantMessage: "unable to read release image"},
		{name: "no command", pod: programPod("no-command", rel.PullSpec),
			wantMessage: "has no command"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			// The error is in the container's log, which is the message
			// of a failed container under FallbackToLogsOnError.
			tc.pod.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
			_, done := watchPod(t, cl, createPod(t, cl, tc.pod), podDone)
			term := terminated(t, done)
			if done.Status.Phase != corev1.PodFailed || term.ExitCode != 1 || !strings.Contains(term.Message, tc.wantMessage) {
				t.Errorf("phase %s, terminated %+v; want Failed, exit 1, message with %q", done.Status.Phase, term, tc.wantMessage)
			}
		})
	}
	t.Run("image that does not exist", func(t *testing.T) {
		pod := createPod(t, cl, programPod("pull-error", missingPullSpec(9), "cluster-version-operator", "image", "cli"))
		_, waiting := watchPod(t, cl, pod, func(p *corev1.Pod) bool { return len(p.Status.ContainerStatuses) > 0 })
		st := waiting.Status.ContainerStatuses[0].State
		if waiting.Status.Phase != corev1.PodPending || st.Waiting == nil || st.Waiting.Reason != "ErrImagePull" {
			t.Errorf("phase %s, state %+v; want Pending with ErrImagePull", waiting.Status.Phase, st)
		}
	})
}

func TestKubeletPodFaults(t *testing.T) {
	testCases := []struct {
		name  string
		fault PodFault
		// check inspects the faulted pod once it is done.
		wantPhase  corev1.PodPhase
		wantReason string // pod status reason
		wantExit   int32
		wantMsg    string
	}{
		{name: "fail", fault: PodFault{NamePrefix: "victim", Action: PodFail, Message: "boom"}, wantPhase: corev1.PodFailed, wantExit: 1, wantMsg: "boom"},
		{name: "fail default message", fault: PodFault{Action: PodFail}, wantPhase: corev1.PodFailed, wantExit: 1, wantMsg: "injected failure"},
		{name: "evict", fault: PodFault{NamePrefix: "vic", Action: PodEvict}, wantPhase: corev1.PodFailed, wantReason: "Evicted", wantExit: 137, wantMsg: "The container could not be located when the pod was terminated"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			rel := addRelease(c, 1)
			cl := c.Client("step")
			fault := tc.fault
			fault.Times = 1
			defer c.InjectPodFault(fault)()
			first := createPod(t, cl, programPod("victim", rel.PullSpec, "cluster-version-operator", "image", "cli"))
			_, victim := watchPod(t, cl, first, podDone)
			term := terminated(t, victim)
			if victim.Status.Phase != tc.wantPhase || victim.Status.Reason != tc.wantReason || term.ExitCode != tc.wantExit || term.Message != tc.wantMsg {
				t.Errorf("phase %s reason %q, terminated %+v; want %s %q exit %d %q", victim.Status.Phase, victim.Status.Reason, term, tc.wantPhase, tc.wantReason, tc.wantExit, tc.wantMsg)
			}
			// Times: 1 spares the next pod, although its name matches too.
			second := createPod(t, cl, programPod("victim-2", rel.PullSpec, "cluster-version-operator", "image", "cli"))
			if _, spared := watchPod(t, cl, second, podDone); spared.Status.Phase != corev1.PodSucceeded {
				t.Errorf("the second pod %s: %+v", spared.Status.Phase, spared.Status.ContainerStatuses)
			}
		})
	}

	t.Run("hang and delete", func(t *testing.T) {
		ctx := t.Context()
		c := newTestCluster(t)
		rel := addRelease(c, 1)
		cl := c.Client("step")
		defer c.InjectPodFault(PodFault{NamePrefix: "hung", Action: PodHang})()
		hung := createPod(t, cl, programPod("hung", rel.PullSpec, "cluster-version-operator", "image", "cli"))
		watchPod(t, cl, hung, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
		// A pod started after it finishes while it still runs.
		watchPod(t, cl, createPod(t, cl, programPod("other", rel.PullSpec, "cluster-version-operator", "image", "cli")), podDone)
		if err := cl.Get(ctx, key("hung"), hung); err != nil {
			t.Fatal(err)
		}
		if hung.Status.Phase != corev1.PodRunning {
			t.Fatalf("hung pod is %s", hung.Status.Phase)
		}

		w, err := cl.Watch(ctx, &corev1.PodList{}, ctrlruntimeclient.InNamespace(testNamespace), &ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: hung.ResourceVersion}})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := cl.Delete(ctx, hung); err != nil {
			t.Fatal(err)
		}
		for {
			// Skip the other pod's events that followed the hung pod's last one.
			ev := nextEvent(t, w)
			pod := ev.Object.(*corev1.Pod)
			if pod.Name != "hung" {
				continue
			}
			// Deleted gracefully: first marked Terminating, then removed
			// by the kubelet once the grace period is over.
			if ev.Type == watch.Modified && pod.DeletionTimestamp != nil {
				continue
			}
			if ev.Type != watch.Deleted {
				t.Errorf("got %s for the hung pod, want MODIFIED with a deletionTimestamp, then DELETED", ev.Type)
			}
			break
		}
		if err := cl.Get(ctx, key("hung"), &corev1.Pod{}); !apierrors.IsNotFound(err) {
			t.Errorf("GET after delete: %v", err)
		}
	})
}

func TestKubeletLatency(t *testing.T) {
	// With a latency profile a pod stays Pending, then Running, for at
	// least PodStart and PodRun.
	lat := Latency{PodStart: 30 * time.Millisecond, PodRun: 30 * time.Millisecond}
	c := New(t.Context(), WithLatency(lat), WithRegistry(registry.New()))
	t.Cleanup(c.Stop)
	rel := addRelease(c, 1)
	cl := c.Client("step")
	start := time.Now()
	phases, _ := watchPod(t, cl, createPod(t, cl, programPod("slow", rel.PullSpec, "cluster-version-operator", "image", "cli")), podDone)
	if elapsed := time.Since(start); elapsed < lat.PodStart+lat.PodRun {
		t.Errorf("pod finished after %s, want at least %s", elapsed, lat.PodStart+lat.PodRun)
	}
	if fmt.Sprint(phases) != "[Pending Running Succeeded]" {
		t.Errorf("phases %v", phases)
	}
}
