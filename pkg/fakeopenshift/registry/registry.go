package registry

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultHost is the registry host unless WithHost says otherwise. The .test
// top-level domain is reserved, so the name can never reach a real registry.
const DefaultHost = "registry.fake.openshift.test"

// SleepFunc waits for d or until ctx is done, returning ctx's error in the
// latter case. The registry calls it for fault latency.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Option configures New.
type Option func(*Registry)

// WithHost sets the host[:port] every pull spec of the registry starts with.
func WithHost(host string) Option {
	return func(r *Registry) { r.host = host }
}

// WithSleep replaces the timer that implements fault latency, so a test can
// record or skip the waits.
func WithSleep(sleep SleepFunc) Option {
	return func(r *Registry) { r.sleep = sleep }
}

// Registry is an in-memory container registry of generated release payloads.
// It is safe for concurrent use.
type Registry struct {
	host  string
	sleep SleepFunc

	mu       sync.Mutex
	releases map[string]*Release
	// images indexes every resolvable reference, repo:tag and repo@digest
	// (lists and children alike), to its image.
	images map[string]*Image
	// keys lists each release's entries in images, so AddRelease can
	// replace a release without leaving stale references behind.
	keys     map[string][]string
	faults   []*fault
	resolves map[string]int
	total    int
	// private maps a repository prefix to the login it requires (see
	// Private).
	private map[string]string
}

// New returns an empty registry.
func New(opts ...Option) *Registry {
	r := &Registry{
		host:     DefaultHost,
		sleep:    sleepContext,
		releases: map[string]*Release{},
		images:   map[string]*Image{},
		keys:     map[string][]string{},
		resolves: map[string]int{},
	}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Host returns the host[:port] of the registry's pull specs.
func (r *Registry) Host() string { return r.host }

// AddRelease generates the payload name and makes it and its component images
// resolvable, replacing an earlier release of the same name as pushing a tag
// again would. It panics if name is not a valid image tag or WithImages is
// below 1: those are mistakes in a test's setup.
func (r *Registry) AddRelease(name string, opts ...ReleaseOption) *Release {
	rel, err := newRelease(r.host, name, opts...)
	if err != nil {
		panic(fmt.Sprintf("registry: %v", err))
	}

	entries := map[string]*Image{}
	index := func(list *Image, children []*Image) {
		entries[list.DockerImageReference] = list
		for _, child := range children {
			entries[child.DockerImageReference] = child
		}
	}
	payload, payloadChildren := newImages(r.host+"/"+releaseRepoPath, rel.Digest, KindPayload, "", rel)
	index(payload, payloadChildren)
	entries[rel.PullSpec] = payload
	for _, tag := range rel.Tags {
		kind := KindComponent
		if tag.Name == CLITag {
			kind = KindCLI
		}
		list, children := newImages(r.host+"/"+artRepoPath, tag.Digest, kind, tag.Name, rel)
		index(list, children)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, key := range r.keys[name] {
		delete(r.images, key)
	}
	keys := make([]string, 0, len(entries))
	for key, img := range entries {
		r.images[key] = img
		keys = append(keys, key)
	}
	r.keys[name] = keys
	r.releases[name] = rel
	return rel
}

// Release returns the release added under name.
func (r *Registry) Release(name string) (*Release, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rel, ok := r.releases[name]
	return rel, ok
}

// ReleaseFor returns the release that owns the image pullSpec names: its
// payload by tag or digest, a component, or a manifest list child. It neither
// counts as a Resolve nor is subject to faults.
func (r *Registry) ReleaseFor(pullSpec string) (*Release, bool) {
	key, err := indexKey(pullSpec)
	if err != nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	img, ok := r.images[key]
	if !ok {
		return nil, false
	}
	return img.Release, true
}

// Resolve looks up the image pullSpec names, by tag or by digest, the way an
// image import does: it counts the call, applies the matching fault rules,
// and fails with an *ImportError whose Reason is ReasonNotFound for an
// unknown image. A malformed pull spec fails with an error wrapping
// ErrInvalidPullSpec before any fault applies. The Image is the caller's.
func (r *Registry) Resolve(ctx context.Context, pullSpec string) (*Image, error) {
	r.mu.Lock()
	r.resolves[pullSpec]++
	r.total++
	r.mu.Unlock()

	key, err := indexKey(pullSpec)
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	latency, failure := r.applyFaultsLocked(pullSpec)
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("could not resolve image %s: %w", pullSpec, err)
	}
	if latency > 0 {
		if err := r.sleep(ctx, latency); err != nil {
			return nil, fmt.Errorf("could not resolve image %s: %w", pullSpec, err)
		}
	}
	if failure != nil {
		return nil, failure
	}

	r.mu.Lock()
	img, ok := r.images[key]
	r.mu.Unlock()
	if !ok {
		return nil, notFoundError(pullSpec)
	}
	return img.clone(), nil
}

// Resolves returns how many times Resolve was called with exactly pullSpec.
func (r *Registry) Resolves(pullSpec string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resolves[pullSpec]
}

// TotalResolves returns how many times Resolve was called.
func (r *Registry) TotalResolves() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// indexKey returns the images key of pullSpec: repo@digest when it has a
// digest (the tag is then ignored, as container runtimes do), otherwise
// repo:tag with the tag defaulting to latest.
func indexKey(pullSpec string) (string, error) {
	repo, tag, digest, err := ParsePullSpec(pullSpec)
	if err != nil {
		return "", err
	}
	switch {
	case digest != "":
		return repo + "@" + digest, nil
	case tag != "":
		return repo + ":" + tag, nil
	}
	return repo + ":latest", nil
}

// sleepContext is the default SleepFunc: a timer that gives up when ctx is
// done.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
