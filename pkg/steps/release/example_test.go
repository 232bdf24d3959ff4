package release_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// ExampleImportReleaseStep imports a payload of three images as
// ci-operator's import_release step does, then reads what it provides to
// later steps and what it put into the stable stream.
func ExampleImportReleaseStep() {
	// In a test: ctx := t.Context().
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.Latency{}))
	defer cluster.Stop()
	payload := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(3))

	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	jobSpec := &api.JobSpec{Job: "example"}
	jobSpec.SetNamespace("ci-op-example")
	step := release.ImportReleaseStep(release.Config{
		Name:   api.LatestReleaseName,
		Source: release.NewFixedSource(payload.PullSpec),
		Log:    logrus.NewEntry(quiet),
	}, cluster.Client("ci-operator"), jobSpec)
	if err := step.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}

	image, err := step.Provides()[api.ReleaseImageEnv(api.LatestReleaseName)]()
	if err != nil {
		fmt.Println(err)
		return
	}
	repository, digest, _ := strings.Cut(image.(string), "@")
	fmt.Println(step.Name(), "provides", api.ReleaseImageEnv(api.LatestReleaseName), "=", repository, "@", digest == payload.Digest)
	stable := &imagev1.ImageStream{}
	if err := cluster.Client("reader").Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: "ci-op-example", Name: api.StableImageStream}, stable); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(stable.Spec.Tags), "tags in", stable.Name)
	// Output:
	// [release:latest] provides RELEASE_IMAGE_LATEST = registry.fake-cluster.test/ci-op-example/release @ true
	// 3 tags in stable
}
