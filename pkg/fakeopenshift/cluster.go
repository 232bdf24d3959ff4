package fakeopenshift

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// Options configure a Cluster.
type Options struct {
	// Latency is the latency profile; see DefaultLatency.
	Latency Latency
	// Registry resolves pull specs for imports and runs the programs in
	// payload images. New makes one when it is nil.
	Registry *registry.Registry
	// InternalRegistry and PublicRegistry are the hosts of the cluster's
	// image registry, used in status.dockerImageRepository and
	// status.publicDockerImageRepository.
	InternalRegistry, PublicRegistry string
	// WatchHistory is how many events the store keeps for watches that start
	// from a resourceVersion; older ones get 410 Gone.
	WatchHistory int
	// ImportWorkers is the number of import controller workers.
	ImportWorkers int
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Seed seeds the random source of probabilistic faults.
	Seed uint64
	// Objects are stored before the controllers start (see WithObjects).
	Objects []ctrlruntimeclient.Object
}

// Option changes Options.
type Option func(*Options)

// WithLatency sets the latency profile.
func WithLatency(l Latency) Option { return func(o *Options) { o.Latency = l } }

// WithRegistry sets the registry the cluster imports from.
func WithRegistry(r *registry.Registry) Option { return func(o *Options) { o.Registry = r } }

// WithWatchHistory sets how many events a watch can start behind.
func WithWatchHistory(n int) Option { return func(o *Options) { o.WatchHistory = n } }

// Cluster is an in-process OpenShift: an apiserver store for the kinds the
// import step uses, the image API's virtual resources, an import controller,
// a kubelet, a registry, fault injection and request accounting.
type Cluster struct {
	opts     Options
	scheme   *runtime.Scheme
	mapper   meta.RESTMapper
	store    *store
	types    *typeConverter
	registry *registry.Registry
	faults   *faults
	stats    *stats

	fmMu          sync.Mutex
	fieldManagers map[string]*managedfields.FieldManager

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	imports *importController
	kubelet *kubelet
	// backend is what the controllers and Client talk to: the store, or a
	// real apiserver (NewControllers).
	backend backend
}

// New starts a cluster. Its controllers run until ctx is done or Stop is
// called.
func New(ctx context.Context, opts ...Option) *Cluster {
	c := newCluster(ctx, opts...)
	c.backend = storeBackend{cluster: c}
	if err := c.seed(c.opts.Objects); err != nil {
		panic(err)
	}
	c.imports = newImportController(c)
	c.kubelet = newKubelet(c)
	c.start(c.imports.run)
	c.start(c.kubelet.run)
	return c
}

// newCluster builds a cluster with its options applied and no controllers
// running.
func newCluster(ctx context.Context, opts ...Option) *Cluster {
	o := Options{
		Latency:          DefaultLatency,
		InternalRegistry: "image-registry.openshift-image-registry.svc:5000",
		PublicRegistry:   "registry.fake-cluster.test",
		WatchHistory:     10000,
		ImportWorkers:    50,
		Now:              time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Registry == nil {
		o.Registry = registry.New()
	}
	scheme := NewScheme()
	ctx, cancel := context.WithCancel(ctx)
	return &Cluster{
		opts:          o,
		scheme:        scheme,
		mapper:        newRESTMapper(),
		store:         newStore(o.WatchHistory, o.Now),
		types:         newTypeConverter(scheme),
		registry:      o.Registry,
		faults:        newFaults(o.Seed, o.Now),
		stats:         newStats(),
		fieldManagers: map[string]*managedfields.FieldManager{},
		ctx:           ctx,
		cancel:        cancel,
	}
}

func (c *Cluster) start(run func(ctx context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		run(c.ctx)
	}()
}

// Stop stops the controllers and waits for them.
func (c *Cluster) Stop() {
	c.cancel()
	c.wg.Wait()
}

// Registry returns the registry the cluster imports from.
func (c *Cluster) Registry() *registry.Registry { return c.registry }

// Scheme returns the scheme the cluster's clients use.
func (c *Cluster) Scheme() *runtime.Scheme { return c.scheme }

// Client returns a client for one simulated process; every request it makes
// is counted under process and subject to the faults injected for it.
func (c *Cluster) Client(process string) ctrlruntimeclient.WithWatch {
	return c.backend.client(process)
}

// ExpireWatchHistory drops the watch history, as etcd compaction does: a
// watch from an older resourceVersion gets 410 Gone and must re-list.
func (c *Cluster) ExpireWatchHistory() { c.store.compact() }

// CloseWatches ends every open watch and returns how many there were.
func (c *Cluster) CloseWatches() int { return c.store.closeWatches() }

func (c *Cluster) now() metav1.Time { return metav1.NewTime(c.opts.Now().Truncate(time.Second)) }

// fieldManager returns the field manager for one kind and subresource.
func (c *Cluster) fieldManager(gvk schema.GroupVersionKind, subresource string) (*managedfields.FieldManager, error) {
	c.fmMu.Lock()
	defer c.fmMu.Unlock()
	key := gvk.String() + "/" + subresource
	if fm, ok := c.fieldManagers[key]; ok {
		return fm, nil
	}
	fm, err := managedfields.NewDefaultFieldManager(c.types, c.scheme, noDefaults{}, c.scheme, gvk, gvk.GroupVersion(), subresource, resetFields(gvk, subresource))
	if err != nil {
		return nil, err
	}
	c.fieldManagers[key] = fm
	return fm, nil
}
