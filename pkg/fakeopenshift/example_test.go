package fakeopenshift_test

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// Example shows a unit test's use of the fake: apply an image stream tag,
// wait for the import controller by watching the stream, read the counters.
func Example() {
	// In a test: ctx := t.Context().
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.Latency{}))
	defer cluster.Stop()
	release := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))
	client := cluster.Client("shard-0")

	apply := func() (*imagev1apply.ImageStreamApplyConfiguration, error) {
		stream := imagev1apply.ImageStream("release", "ci-op-1234").WithSpec(imagev1apply.ImageStreamSpec().WithTags(
			imagev1apply.TagReference().WithName("initial").
				WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: release.PullSpec}).
				WithImportPolicy(imagev1apply.TagImportPolicy().WithImportMode(imagev1.ImportModePreserveOriginal))))
		return stream, client.Apply(ctx, stream, ctrlruntimeclient.FieldOwner("import-release"), ctrlruntimeclient.ForceOwnership)
	}
	stream, err := apply()
	if err != nil {
		fmt.Println("apply:", err)
		return
	}
	fmt.Println("applied: generation", *stream.Generation, "tag generation", *stream.Spec.Tags[0].Generation)

	// The import controller imports the tag asynchronously: watch the stream
	// until the tag's newest status entry has caught up with its generation.
	w, err := client.Watch(ctx, &imagev1.ImageStreamList{}, ctrlruntimeclient.InNamespace("ci-op-1234"),
		ctrlruntimeclient.MatchingFields{"metadata.name": "release"})
	if err != nil {
		fmt.Println("watch:", err)
		return
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		is := ev.Object.(*imagev1.ImageStream)
		if len(is.Status.Tags) == 0 || len(is.Status.Tags[0].Items) == 0 {
			continue
		}
		latest := is.Status.Tags[0].Items[0]
		if latest.Generation >= *is.Spec.Tags[0].Generation {
			fmt.Println("imported: payload digest", latest.Image == release.Digest, "at generation", latest.Generation)
			break
		}
	}

	// Applying the same configuration again changes nothing.
	if _, err := apply(); err != nil {
		fmt.Println("apply:", err)
		return
	}
	stats := cluster.Stats()
	fmt.Println("imports:", stats.Imports[fakeopenshift.TagKey{Namespace: "ci-op-1234", Stream: "release", Tag: "initial"}])
	fmt.Println("writes by shard-0:", stats.WritesBy(func(process string) bool { return process == "shard-0" }))
	// Output:
	// applied: generation 1 tag generation 1
	// imported: payload digest true at generation 2
	// imports: 1
	// writes by shard-0: 1
}
