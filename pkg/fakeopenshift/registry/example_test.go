package registry_test

import (
	"context"
	"fmt"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

func Example() {
	ctx := context.Background()
	reg := registry.New()
	rel := reg.AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(4))
	for _, tag := range rel.Tags {
		fmt.Println(tag.Name)
	}

	// The cli image fails once, then imports.
	remove := reg.AddFault(registry.FaultRule{PullSpec: rel.CLIPullSpec, FailFirst: 1})
	defer remove()
	for range 2 {
		img, err := reg.Resolve(ctx, rel.CLIPullSpec)
		if err != nil {
			fmt.Println("failed:", registry.ReasonOf(err))
			continue
		}
		fmt.Println(img.Kind, len(img.Manifests), "manifests", reg.Resolves(rel.CLIPullSpec), "resolves")
	}

	_, err := reg.Resolve(ctx, "registry.fake.openshift.test/ocp/release:4.19.0")
	fmt.Println(err)
	// Output:
	// cli
	// cli-artifacts
	// installer
	// machine-config-operator
	// failed: InternalError
	// CLI 4 manifests 2 resolves
	// dockerimage.image.openshift.io "registry.fake.openshift.test/ocp/release:4.19.0" not found
}
