package imagestreams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// DefaultClaimDuration is how long a claim stays valid after its holder's
// last renewal; the holder renews it every third of that while it works.
const DefaultClaimDuration = 30 * time.Second

// NewHolderIdentity returns a name for this process that no other process
// uses: the host, the pid and a random suffix, as a Lease holder.
func NewHolderIdentity() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// LeaseStore reads and writes one coordination.k8s.io Lease, every write a
// compare-and-swap: an update carries the resourceVersion it read, a create
// lands only when there is no Lease yet, so of two writers that read the
// same version exactly one lands and the other gets a conflict.
//
// LeaseStore retries nothing itself: give it a client that retries
// transient errors (apiretry.NewClient), as the step and WaitForImports do.
type LeaseStore struct {
	Client ctrlruntimeclient.WithWatch
	Key    ctrlruntimeclient.ObjectKey
}

// Get returns the Lease, or an empty one (no resourceVersion) when there is
// none yet.
func (s LeaseStore) Get(ctx context.Context) (*coordinationv1.Lease, error) {
	lease := &coordinationv1.Lease{}
	err := s.Client.Get(ctx, s.Key, lease)
	switch {
	case apierrors.IsNotFound(err):
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: s.Key.Namespace, Name: s.Key.Name}}, nil
	case err != nil:
		return nil, fmt.Errorf("could not read lease %s: %w", s.Key, err)
	}
	return lease, nil
}

// Put writes lease conditionally on the version it was read at. A conflict
// (or AlreadyExists for a create) means another writer was first; the caller
// reads again and decides anew.
func (s LeaseStore) Put(ctx context.Context, lease *coordinationv1.Lease) error {
	if lease.ResourceVersion == "" {
		err := s.Client.Create(ctx, lease)
		if apierrors.IsAlreadyExists(err) {
			return apierrors.NewConflict(coordinationv1.Resource("leases"), lease.Name, err)
		}
		return err
	}
	return s.Client.Update(ctx, lease)
}

// WaitForChange returns when the Lease changes from version rv, at until, or
// when ctx ends, whichever is first. It watches the one Lease from rv; when
// the watch cannot start (e.g. rv is too old) it returns within a second, and
// the caller reads again.
func (s LeaseStore) WaitForChange(ctx context.Context, rv string, until time.Time) {
	ctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	w, err := s.Client.Watch(ctx, &coordinationv1.LeaseList{}, ctrlruntimeclient.InNamespace(s.Key.Namespace),
		ctrlruntimeclient.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", s.Key.Name)},
		&ctrlruntimeclient.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	if err != nil {
		_ = apiretry.Sleep(ctx, time.Second)
		return
	}
	defer w.Stop()
	select {
	case <-w.ResultChan():
	case <-ctx.Done():
	}
}

// expiryClock tells when a Lease held by another process expires. A Lease
// states its holder's renew time by the holder's clock; to bound the wait by
// this process's clock too, a version of the Lease counts as expired one
// duration after it was first seen here, whatever its renew time says, as
// client-go's leader election does.
type expiryClock struct {
	mu        sync.Mutex
	firstSeen map[string]time.Time // resourceVersion -> when first seen
}

func (c *expiryClock) expiry(lease *coordinationv1.Lease, now time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.firstSeen == nil {
		c.firstSeen = map[string]time.Time{}
	}
	seen, ok := c.firstSeen[lease.ResourceVersion]
	if !ok {
		seen = now
		c.firstSeen[lease.ResourceVersion] = now
	}
	return LeaseExpiry(lease, seen)
}

// LeaseExpiry returns when lease, first seen at seen, expires: one duration
// after its renew time, or after seen if that is earlier.
func LeaseExpiry(lease *coordinationv1.Lease, seen time.Time) time.Time {
	duration := DefaultClaimDuration
	if lease.Spec.LeaseDurationSeconds != nil {
		duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	end := seen.Add(duration)
	if lease.Spec.RenewTime != nil && lease.Spec.RenewTime.Add(duration).Before(end) {
		end = lease.Spec.RenewTime.Add(duration)
	}
	return end
}

// HolderOf returns the Lease's holder, "" when nobody holds it.
func HolderOf(lease *coordinationv1.Lease) string {
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// Hold makes holder the holder of lease from now on for duration.
func Hold(lease *coordinationv1.Lease, holder string, duration time.Duration, now time.Time) {
	t := metav1.NewMicroTime(now)
	if HolderOf(lease) != holder {
		lease.Spec.AcquireTime = &t
		transitions := int32(0)
		if lease.Spec.LeaseTransitions != nil {
			transitions = *lease.Spec.LeaseTransitions + 1
		}
		lease.Spec.LeaseTransitions = &transitions
	}
	lease.Spec.HolderIdentity = &holder
	seconds := int32(max(1, (duration+time.Second-1)/time.Second))
	lease.Spec.LeaseDurationSeconds = &seconds
	lease.Spec.RenewTime = &t
}

// Free releases lease: no holder, renewed now so the record shows when.
func Free(lease *coordinationv1.Lease, now time.Time) {
	t := metav1.NewMicroTime(now)
	lease.Spec.HolderIdentity = nil
	lease.Spec.RenewTime = &t
}

// ReadLeaseAnnotation decodes the JSON in lease's annotation key into into.
// An absent or unreadable annotation leaves into as it was: a record that
// does not parse counts as empty, and the callers' own counts still bound
// what they do.
func ReadLeaseAnnotation(lease *coordinationv1.Lease, key string, into any) {
	if raw := lease.Annotations[key]; raw != "" {
		_ = json.Unmarshal([]byte(raw), into)
	}
}

// WriteLeaseAnnotation stores v as JSON in lease's annotation key. The
// records kept there are plain structs and maps of them, which always
// encode.
func WriteLeaseAnnotation(lease *coordinationv1.Lease, key string, v any) {
	raw, _ := json.Marshal(v)
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[key] = string(raw)
}
