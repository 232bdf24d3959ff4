package fakeopenshift

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// KubeletProcess is the process name the kubelet's requests are accounted
// under; programs run in pods are accounted as "pod/<namespace>/<name>".
const KubeletProcess = "kubelet"

// PodAction is what a pod fault does to a pod.
type PodAction string

const (
	// PodFail makes the container exit 1 with the fault's message.
	PodFail PodAction = "Fail"
	// PodEvict evicts the pod: phase Failed, reason Evicted.
	PodEvict PodAction = "Evict"
	// PodHang keeps the pod Running forever.
	PodHang PodAction = "Hang"
)

// PodFault changes the fate of pods whose name starts with NamePrefix (all
// pods when empty). Times is how many pods it strikes; 0 means all.
type PodFault struct {
	NamePrefix string
	Action     PodAction
	Message    string
	Times      int
}

// kubelet runs the step's pods: Pending for Latency.PodStart, Running for
// Latency.PodRun, then Succeeded or Failed with the program's result. It
// understands the programs of release payload and CLI images (see
// runProgram); anything else fails the pod with a message that says so.
// A graceful deletion stops it (see graceful.go).
type kubelet struct {
	cluster *Cluster
	client  ctrlruntimeclient.Client

	mu      sync.Mutex
	running map[types.UID]*podRun
	faults  []*podFaultState
}

// podRun is the kubelet's record of one pod it runs.
type podRun struct {
	cancel      context.CancelFunc
	hangs       bool // its container ignores SIGTERM
	terminating bool
}

type podFaultState struct {
	PodFault
	fired int
}

func newKubelet(c *Cluster) *kubelet {
	return &kubelet{cluster: c, client: c.Client(KubeletProcess), running: map[types.UID]*podRun{}}
}

// InjectPodFault adds a pod fault; the returned function removes it.
func (c *Cluster) InjectPodFault(f PodFault) (remove func()) {
	k := c.kubelet
	k.mu.Lock()
	defer k.mu.Unlock()
	st := &podFaultState{PodFault: f}
	k.faults = append(k.faults, st)
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		for i, r := range k.faults {
			if r == st {
				k.faults = append(k.faults[:i], k.faults[i+1:]...)
				return
			}
		}
	}
}

// faultFor picks the fault for a new pod; the caller holds k.mu.
func (k *kubelet) faultFor(pod *corev1.Pod) *PodFault {
	for _, f := range k.faults {
		if !strings.HasPrefix(pod.Name, f.NamePrefix) || (f.Times > 0 && f.fired >= f.Times) {
			continue
		}
		f.fired++
		out := f.PodFault
		return &out
	}
	return nil
}

func (k *kubelet) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		w, err := k.cluster.backend.watch(ctx, podGVK)
		if err != nil {
			return
		}
		for done := false; !done; {
			select {
			case <-ctx.Done():
				w.Stop()
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					done = true
					break
				}
				if f := k.handle(ctx, ev); f != nil {
					wg.Add(1)
					go func() {
						defer wg.Done()
						f()
					}()
				}
			}
		}
	}
}

// handle returns the work a pod event starts, if any: running a new pod, or
// terminating one that is being deleted gracefully.
func (k *kubelet) handle(ctx context.Context, ev watch.Event) func() {
	pod := ev.Object.(*corev1.Pod)
	k.mu.Lock()
	defer k.mu.Unlock()
	run := k.running[pod.UID]
	switch {
	case ev.Type == watch.Deleted:
		if run != nil {
			run.cancel()
			delete(k.running, pod.UID)
		}
		return nil
	case pod.DeletionTimestamp != nil:
		if run == nil || run.terminating {
			return nil
		}
		run.terminating = true
		return func() { k.terminate(ctx, pod, run.hangs) }
	case run != nil || pod.Status.Phase != corev1.PodPending:
		return nil
	}
	podCtx, cancel := context.WithCancel(ctx)
	run = &podRun{cancel: cancel}
	k.running[pod.UID] = run
	fault := k.faultFor(pod)
	run.hangs = fault != nil && fault.Action == PodHang
	return func() { k.runPod(podCtx, pod, fault) }
}

// stop stops a pod's container.
func (k *kubelet) stop(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if run := k.running[uid]; run != nil {
		run.cancel()
	}
}

func (k *kubelet) runPod(ctx context.Context, pod *corev1.Pod, fault *PodFault) {
	lat := k.cluster.opts.Latency
	if sleep(ctx, lat.PodSchedule) != nil || !k.cluster.backend.bindPod(ctx, pod) {
		return
	}
	if sleep(ctx, lat.PodStart) != nil {
		return
	}
	if len(pod.Spec.Containers) == 0 {
		k.finish(ctx, pod, corev1.PodFailed, "", 1, "pod has no containers")
		return
	}
	container := pod.Spec.Containers[0]
	ref, logins := k.cluster.pullThrough(ctx, pod, k.cluster.resolveLocalName(ctx, pod.Namespace, container.Image))
	img, err := k.cluster.registry.ResolveWith(ctx, ref, logins)
	if err != nil {
		k.setStatus(ctx, pod, func(st *corev1.PodStatus) {
			st.ContainerStatuses = []corev1.ContainerStatus{{Name: container.Name, Image: container.Image, State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: pullFailureReason(err), Message: err.Error()}}}}
		})
		return
	}
	now := k.cluster.now()
	if !k.setStatus(ctx, pod, func(st *corev1.PodStatus) {
		st.Phase = corev1.PodRunning
		st.StartTime = &now
		st.ContainerStatuses = []corev1.ContainerStatus{{Name: container.Name, Image: container.Image, ImageID: img.DockerImageReference, Ready: true, Started: ptrBool(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
	}) {
		return
	}
	if fault != nil && fault.Action == PodHang {
		<-ctx.Done()
		return
	}
	if sleep(ctx, lat.PodRun) != nil {
		return
	}
	switch {
	case fault != nil && fault.Action == PodEvict:
		k.setStatus(ctx, pod, func(st *corev1.PodStatus) {
			st.Phase = corev1.PodFailed
			st.Reason = "Evicted"
			st.Message = firstNonEmpty(fault.Message, "The node was low on resource: memory.")
			st.ContainerStatuses[0].Ready = false
			st.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown", Message: "The container could not be located when the pod was terminated"}}
		})
		return
	case fault != nil && fault.Action == PodFail:
		k.finish(ctx, pod, corev1.PodFailed, "Error", 1, firstNonEmpty(fault.Message, "injected failure"))
		return
	}
	k.runContainer(ctx, pod, container, img)
}

// runContainer runs the container's program and finishes the pod with its
// result.
func (k *kubelet) runContainer(ctx context.Context, pod *corev1.Pod, container corev1.Container, img *registry.Image) {
	files, err := k.runProgram(ctx, pod, container, img)
	// As a kubelet does: the termination message is what the program wrote
	// to the container's terminationMessagePath; under
	// FallbackToLogsOnError a failed container with no message gets the
	// tail of its log (here, the error).
	message := string(files[terminationMessagePath(container)])
	if err != nil {
		if message == "" && container.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
			message = err.Error()
		}
		k.finish(ctx, pod, corev1.PodFailed, "Error", 1, message)
		return
	}
	k.finish(ctx, pod, corev1.PodSucceeded, "Completed", 0, message)
}

func terminationMessagePath(c corev1.Container) string {
	if c.TerminationMessagePath != "" {
		return c.TerminationMessagePath
	}
	return corev1.TerminationMessagePathDefault
}

func (k *kubelet) finish(ctx context.Context, pod *corev1.Pod, phase corev1.PodPhase, reason string, code int32, message string) {
	now := k.cluster.now()
	k.setStatus(ctx, pod, func(st *corev1.PodStatus) {
		st.Phase = phase
		name := ""
		if len(pod.Spec.Containers) > 0 {
			name = pod.Spec.Containers[0].Name
		}
		if len(st.ContainerStatuses) == 0 {
			st.ContainerStatuses = []corev1.ContainerStatus{{Name: name}}
		}
		st.ContainerStatuses[0].Ready = false
		st.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, Message: message, FinishedAt: now,
		}}
	})
}

// setStatus writes the pod's status through the status subresource, re-reading
// on conflict; it reports false when the pod is gone or replaced.
func (k *kubelet) setStatus(ctx context.Context, pod *corev1.Pod, mutate func(*corev1.PodStatus)) bool {
	for ctx.Err() == nil {
		live := &corev1.Pod{}
		if err := k.client.Get(ctx, ctrlruntimeclient.ObjectKeyFromObject(pod), live); err != nil || live.UID != pod.UID {
			return false
		}
		mutate(&live.Status)
		err := k.client.Status().Update(ctx, live)
		if err == nil {
			return true
		}
		if !apierrors.IsConflict(err) {
			return false
		}
	}
	return false
}

// runProgram runs what the container asks for and returns the files it
// wrote (the termination message is one of them). What it prints goes to
// the container's log, which the fake does not keep. The programs
// understood:
//
//   - in a release payload image: `cluster-version-operator image cli`
//     (the first word may be a path). It prints the cli image's pull spec
//     with no trailing newline; run it as
//     `/bin/sh -c "cluster-version-operator image cli > /dev/termination-log"`
//     to make that the termination message, as the real program only
//     prints.
//   - in a CLI image: `oc` commands in a shell script (see shell).
//
// A shell script is `/bin/bash -c <script>` or `/bin/sh -c <script>`.
func (k *kubelet) runProgram(ctx context.Context, pod *corev1.Pod, container corev1.Container, img *registry.Image) (map[string][]byte, error) {
	argv := append(append([]string{}, container.Command...), container.Args...)
	if len(argv) == 0 {
		return nil, fmt.Errorf("fakeopenshift kubelet: container %s has no command; the fake runs only the programs it knows", container.Name)
	}
	sh := newShell(k.cluster, pod, img, container.Image)
	if (path.Base(argv[0]) == "bash" || path.Base(argv[0]) == "sh") && len(argv) == 3 && argv[1] == "-c" {
		_, err := sh.run(ctx, argv[2])
		return sh.files, err
	}
	_, err := sh.runCommand(ctx, argv)
	return sh.files, err
}

func ptrBool(b bool) *bool { return &b }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var _ = metav1.Now

// pullFailureReason is the waiting reason a kubelet reports for an image it
// cannot pull: InvalidImageName for a reference that does not parse (it
// never retries those), ErrImagePull otherwise.
func pullFailureReason(err error) string {
	if errors.Is(err, registry.ErrInvalidPullSpec) {
		return "InvalidImageName"
	}
	return "ErrImagePull"
}
