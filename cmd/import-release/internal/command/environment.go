package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// Environment is where the import runs: a real cluster, or the embedded fake
// OpenShift that package main provides.
type Environment interface {
	// Describe names the cluster for people.
	Describe() string
	// Client is the client of one process (a shard importing one release).
	Client(process string) ctrlruntimeclient.WithWatch
	// Source is the payload pull spec of a release.
	Source(release string) string
	// RetryDelay is the base delay before a re-trigger; zero means the
	// step's default.
	RetryDelay() time.Duration
	Close()
}

// Accountant is an Environment that counts what the shards did (the
// embedded cluster does): it fills the report's counters and invariants.
type Accountant interface {
	Account(o *Options, run *Run, rep *Report)
}

// remote is a real cluster.
type remote struct {
	host    string
	client  ctrlruntimeclient.WithWatch
	sources map[string]string
}

func (r *remote) Describe() string                          { return r.host }
func (r *remote) Client(string) ctrlruntimeclient.WithWatch { return r.client }
func (r *remote) Source(name string) string                 { return r.sources[name] }
func (r *remote) RetryDelay() time.Duration                 { return 0 }
func (r *remote) Close()                                    {}

// newRemote connects to a real cluster and checks, before anything is
// written, that it answers and that the credentials may read image streams
// in the namespace.
func newRemote(ctx context.Context, o *clusterOptions, sources map[string]string) (*remote, error) {
	var cfg *rest.Config
	var err error
	if o.InCluster {
		cfg, err = rest.InClusterConfig()
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("could not load the cluster configuration: %w", err)
	}
	client, err := ctrlruntimeclient.NewWithWatch(cfg, ctrlruntimeclient.Options{Scheme: release.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("could not reach the cluster at %s: %s", cfg.Host, firstLine(err))
	}
	probe := &imagev1.ImageStreamList{}
	if err := client.List(ctx, probe, ctrlruntimeclient.InNamespace(o.Namespace), ctrlruntimeclient.Limit(1)); err != nil {
		switch {
		case apierrors.IsUnauthorized(err):
			return nil, fmt.Errorf("the cluster at %s did not accept the credentials: %s", cfg.Host, firstLine(err))
		case apierrors.IsForbidden(err):
			return nil, fmt.Errorf("not allowed to list image streams in namespace %s (see deploy/rbac.yaml): %s", o.Namespace, firstLine(err))
		default:
			return nil, fmt.Errorf("could not reach the cluster at %s: %s", cfg.Host, firstLine(err))
		}
	}
	return &remote{host: cfg.Host, client: client, sources: sources}, nil
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
