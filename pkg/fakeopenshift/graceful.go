package fakeopenshift

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Graceful pod deletion, as the pod registry and the kubelet do it:
//
//   - A DELETE of a pod that is bound to a node and has not finished sets
//     metadata.deletionTimestamp to now plus the grace period (the request's
//     gracePeriodSeconds, else the pod's terminationGracePeriodSeconds,
//     defaulted to 30) and deletionGracePeriodSeconds, bumps
//     metadata.generation and leaves the pod in place: watchers see a
//     MODIFIED event. The pod is Terminating; a create of the same name gets
//     AlreadyExists until it is gone.
//   - A pod that is not bound yet, has Succeeded or Failed, or is deleted
//     with gracePeriodSeconds 0 is removed at once (DELETED).
//   - A second DELETE of a Terminating pod may shorten the grace period, never
//     lengthen it.
//   - The kubelet stops the pod's container (Latency.PodStop; a container that
//     ignores SIGTERM, see PodHang, runs out the grace period) and then
//     deletes the pod with grace period 0 and a UID precondition: DELETED.
//     The grace period is a real-cluster duration and is scaled by
//     Latency.TimeScale.

// deletePod returns what a DELETE leaves of pod: nil when it is removed at
// once, else the pod marked Terminating.
func (cl *Cluster) deletePod(pod *corev1.Pod, requested *int64) ctrlruntimeclient.Object {
	period := int64(corev1.DefaultTerminationGracePeriodSeconds)
	switch {
	case requested != nil:
		period = *requested
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		period = 0
	}
	if period <= 0 {
		return nil
	}
	if pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds <= period {
		return pod // already Terminating at least as soon: a no-op
	}
	out := pod.DeepCopy()
	at := metav1.NewTime(cl.opts.Now().Add(time.Duration(period) * time.Second).Truncate(time.Second))
	out.DeletionTimestamp = &at
	if out.DeletionGracePeriodSeconds == nil {
		out.Generation++ // only when the deletion starts, not when it is shortened
	}
	out.DeletionGracePeriodSeconds = &period
	return out
}

// SchedulerProcess is the process name pod bindings are accounted under.
const SchedulerProcess = "kube-scheduler"

// NodeName is the node the fake's pods are bound to.
const NodeName = "fake-node-0"

// bindPod binds a pod to the node, as the scheduler's POST pods/binding
// does: spec.nodeName and the PodScheduled condition. A pod created with a
// nodeName skips the scheduler, and the fake's kubelet stands for every
// node. It reports false when the pod is gone, replaced or Terminating.
func (cl *Cluster) bindPod(pod *corev1.Pod) bool {
	if pod.Spec.NodeName != "" {
		return true
	}
	k, _ := kindFor(podGVK)
	cl.stats.request(SchedulerProcess, "create", "Binding")
	res, err := cl.store.write(podGVK, k.resource, keyOf(podGVK, pod), func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		if live == nil || live.GetUID() != pod.UID {
			return nil, apierrors.NewNotFound(k.resource, pod.Name)
		}
		p := live.(*corev1.Pod).DeepCopy()
		if p.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(k.resource, pod.Name, errTerminating)
		}
		if p.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(k.resource, pod.Name, errBound)
		}
		p.Spec.NodeName = NodeName
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: cl.now()})
		return p, nil
	}, func(writeResult) { cl.stats.write(SchedulerProcess, "create", "Binding") })
	cl.stats.call(Call{Process: SchedulerProcess, Verb: "create", Kind: "Binding", Outcome: outcomeOf("create", res.changed, err)}, 0)
	return err == nil
}

type podError string

func (e podError) Error() string { return string(e) }

const (
	errTerminating podError = "pod is being deleted"
	errBound       podError = "pod is already assigned to a node"
)

// terminate stops a Terminating pod's container and removes the pod, as the
// kubelet does once the container has exited or the grace period is over.
func (k *kubelet) terminate(ctx context.Context, pod *corev1.Pod, ignoresSIGTERM bool) {
	lat := k.cluster.opts.Latency
	grace := time.Duration(0)
	if pod.DeletionGracePeriodSeconds != nil {
		grace = lat.scaled(time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second)
	}
	wait := min(lat.PodStop, grace)
	if ignoresSIGTERM {
		wait = grace
	}
	if sleep(ctx, wait) != nil {
		return
	}
	k.stop(pod.UID)
	_ = k.client.Delete(ctx, pod, ctrlruntimeclient.GracePeriodSeconds(0), ctrlruntimeclient.Preconditions{UID: ptrUID(pod.UID)})
}

func ptrUID(uid types.UID) *types.UID { return &uid }
