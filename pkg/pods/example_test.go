package pods_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/pods"
)

// ExampleRun runs a content-addressed pod to completion and reads its
// answer: the first caller creates the pod, a second one (another process)
// adopts it and gets the same answer without creating anything.
func ExampleRun() {
	// In a test: ctx := t.Context().
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.Latency{}))
	defer cluster.Stop()
	payload := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))

	desired := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ci-op-example", Name: "release-images-latest-cli-0123456789"},
			Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name:  "release",
					Image: payload.DigestPullSpec,
					// The answer goes to the termination message.
					Command:                []string{"/bin/sh", "-c", "/usr/bin/cluster-version-operator image cli > " + corev1.TerminationMessagePathDefault},
					TerminationMessagePath: corev1.TerminationMessagePathDefault,
				}},
			},
		}
	}
	for _, process := range []string{"shard-0", "shard-1"} {
		created := false
		pod, err := pods.Run(ctx, cluster.Client(process), desired(), pods.WithObserver(func(ev pods.Event) {
			created = created || ev.Created
		}))
		if err != nil {
			fmt.Println(err)
			return
		}
		answer := strings.TrimSpace(pods.TerminationMessage(pod))
		fmt.Printf("%s: pod %s, created here: %v, prints the CLI image: %v\n", process, pod.Status.Phase, created, answer == payload.CLIPullSpec)
	}
	fmt.Println("pods created:", cluster.Stats().PodsCreated["ci-op-example/release-images-latest-cli-0123456789"])
	// Output:
	// shard-0: pod Succeeded, created here: true, prints the CLI image: true
	// shard-1: pod Succeeded, created here: false, prints the CLI image: true
	// pods created: 1
}
