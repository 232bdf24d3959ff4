package main

import (
	"context"
	"fmt"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// environment is where the import runs: the embedded fake OpenShift or a
// real cluster.
type environment struct {
	describe string
	client   func(process string) ctrlruntimeclient.WithWatch
	sources  map[string]string // release name -> payload pull spec
	// cluster and releases are set on the embedded cluster only.
	cluster  *fakeopenshift.Cluster
	releases map[string]*registry.Release
}

// payloadVersions are the versions of the generated payloads, one per release
// name in order: an upgrade job's initial release is older than its latest.
var payloadVersions = []string{"4.18.0-0.nightly-2026-11-20-000000", "4.19.0-0.nightly-2026-11-21-000000"}

func newEmbedded(ctx context.Context, o *options) *environment {
	cluster := fakeopenshift.New(ctx, fakeopenshift.WithLatency(fakeopenshift.EmbeddedLatency))
	env := &environment{
		describe: "the embedded fake OpenShift",
		client:   cluster.Client,
		sources:  map[string]string{},
		cluster:  cluster,
		releases: map[string]*registry.Release{},
	}
	for i, name := range o.names {
		version := fmt.Sprintf("4.%d.0-0.nightly-2026-11-20-%06d", 18+i, i)
		if i < len(payloadVersions) {
			version = payloadVersions[i]
		}
		if from, ok := o.from[name]; ok {
			// complete() checked the pull spec; the embedded registry serves
			// <host>/ocp/release:<version>.
			ref, _ := pullspec.Parse(from)
			version = ref.Tag
		}
		rel := cluster.Registry().AddRelease(version, registry.WithImages(o.images))
		env.releases[name] = rel
		env.sources[name] = rel.PullSpec
	}
	return env
}

// checkEmbeddedFrom rejects --from values the embedded registry cannot serve.
func checkEmbeddedFrom(o *options) error {
	for name, from := range o.from {
		ref, _ := pullspec.Parse(from)
		if ref.Repository != registry.DefaultHost+"/ocp/release" || ref.Digest != "" || ref.Tag == "" {
			return fmt.Errorf("--from %s: the embedded cluster serves generated payloads only, as %s/ocp/release:<version>", name, registry.DefaultHost)
		}
	}
	if o.cliImage != "" {
		return fmt.Errorf("--cli-image works with a real cluster only; the embedded registry has no other CLI images")
	}
	return nil
}

// newRemote connects to a real cluster and checks, before anything is
// written, that it answers and that the credentials may read image streams
// in the namespace.
func newRemote(ctx context.Context, o *options) (*environment, error) {
	var cfg *rest.Config
	var err error
	if o.inCluster {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("could not load the cluster configuration: %w", err)
	}
	scheme := fakeopenshift.NewScheme()
	client, err := ctrlruntimeclient.NewWithWatch(cfg, ctrlruntimeclient.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("could not reach the cluster at %s: %s", cfg.Host, firstLine(err))
	}
	probe := &imagev1.ImageStreamList{}
	if err := client.List(ctx, probe, ctrlruntimeclient.InNamespace(o.namespace), ctrlruntimeclient.Limit(1)); err != nil {
		switch {
		case apierrors.IsUnauthorized(err):
			return nil, fmt.Errorf("the cluster at %s did not accept the credentials: %s", cfg.Host, firstLine(err))
		case apierrors.IsForbidden(err):
			return nil, fmt.Errorf("not allowed to list image streams in namespace %s (see deploy/rbac.yaml): %s", o.namespace, firstLine(err))
		default:
			return nil, fmt.Errorf("could not reach the cluster at %s: %s", cfg.Host, firstLine(err))
		}
	}
	return &environment{
		describe: cfg.Host,
		client:   func(string) ctrlruntimeclient.WithWatch { return client },
		sources:  o.from,
	}, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
