package imagestreams_test

import (
	"context"
	"fmt"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// ExampleWaitForImports applies canonical tags to a stream and waits, by
// watching the stream, until the import controller has imported them for
// their current generation.
func ExampleWaitForImports() {
	// In a test: ctx := t.Context().
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.Latency{}))
	defer cluster.Stop()
	payload := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))
	client := cluster.Client("shard-0")

	var names []string
	var tags []*imagev1apply.TagReferenceApplyConfiguration
	for _, tag := range payload.Tags {
		names = append(names, tag.Name)
		tags = append(tags, imagestreams.Tag(tag.Name, tag.PullSpec, imagev1.SourceTagReferencePolicy))
	}
	stream := imagestreams.StreamWithTags("ci-op-example", "stable", tags...)
	if err := client.Apply(ctx, stream, ctrlruntimeclient.FieldOwner(imagestreams.ManagerPayload), ctrlruntimeclient.ForceOwnership); err != nil {
		fmt.Println(err)
		return
	}
	var last imagestreams.Progress
	is, err := imagestreams.WaitForImports(ctx, client, "ci-op-example", "stable", names,
		imagestreams.WithStallTimeout(20*time.Second),
		imagestreams.WithProgress(func(p imagestreams.Progress) { last = p }))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d/%d imported\n", last.Imported, last.Total)
	for _, tag := range payload.Tags {
		st := imagestreams.StateOf(is, tag.Name)
		fmt.Println(st.Tag, st.Phase, "from the payload:", st.Source == tag.PullSpec)
	}
	// Output:
	// 3/3 imported
	// cli Imported from the payload: true
	// cli-artifacts Imported from the payload: true
	// installer Imported from the payload: true
}
