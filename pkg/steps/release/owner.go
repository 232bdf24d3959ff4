package release

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/pods"
)

// The payload record: which payload holds a release name in a namespace.
//
// One payload per release name at a time. The record is a
// coordination.k8s.io Lease, PayloadLeaseName(name), whose holder is the
// payload's pull spec (not a process: every process importing that payload
// shares it) and whose PayloadRecordAnnotation says whether that import is
// still "importing" or "complete", and which payload it replaced. Every write
// is a compare-and-swap (imagestreams.LeaseStore.Put):
//
//  1. Before its first write a process reads the record. No record: it
//     creates one naming its payload, "importing". Its own payload: it joins,
//     writing nothing.
//  2. Another payload, "complete" (or "importing" but not renewed for the
//     Lease duration: its processes are gone): it takes the name over,
//     "importing", recording the payload it replaced. A payload that was
//     replaced cannot take the name back.
//  3. Another payload, "importing" and alive: the process fails at once with
//     a *PayloadConflictError naming both payloads, having written nothing.
//  4. While it works, each process renews the record when it is older than a
//     third of its duration (a conditional update: one of N lands).
//  5. Before it reports success a process reads the record again: it must
//     still name its payload, and the release stream and the stable stream's
//     merged mark must hold it; then it marks the record "complete" (a
//     conditional update on what it read). A process whose payload lost the
//     name meanwhile fails with the same error as in 3.
//
// Processes of a payload that die hold the name for at most the Lease
// duration after the last renewal. A process that comes back a day later
// finds the record renewed by others, complete, or taken over; in the last
// case it fails at step 5 at the latest, and before its merge (which checks
// the record) in all but a race of one request.

// PayloadRecordAnnotation holds the record's state on the payload Lease.
const PayloadRecordAnnotation = "ci.openshift.io/import-release-payload"

// PayloadLeaseName is the name of the payload record of release name.
func PayloadLeaseName(name string) string { return "import-release-payload-" + name }

// DefaultPayloadClaimDuration is the shortest duration of a payload record:
// processes of a payload that all died hold the release name that long after
// the last renewal. It is longer than a re-trigger claim's because nobody
// waits on it in the common case (a newer payload arrives after the old one
// completed), and its renewals are writes that come with the length of a run.
const DefaultPayloadClaimDuration = 5 * time.Minute

// Payload record states.
const (
	payloadImporting = "importing"
	payloadComplete  = "complete"
)

type payloadRecord struct {
	State    string `json:"state"`
	Replaced string `json:"replaced,omitempty"`
	// ConfigMap and ConfigMapSHA256 name the extracted image references
	// and the digest of their data as first read after extraction.
	ConfigMap       string `json:"configMap,omitempty"`
	ConfigMapSHA256 string `json:"configMapSHA256,omitempty"`
}

func readPayloadRecord(lease *coordinationv1.Lease) payloadRecord {
	var rec payloadRecord
	imagestreams.ReadLeaseAnnotation(lease, PayloadRecordAnnotation, &rec)
	return rec
}

func writePayloadRecord(lease *coordinationv1.Lease, rec payloadRecord) {
	imagestreams.WriteLeaseAnnotation(lease, PayloadRecordAnnotation, rec)
}

// PayloadConflictError says that another payload holds the release name.
type PayloadConflictError struct {
	Release, Namespace string
	// Holder is the payload that holds the name, Wanted this process's.
	Holder, Wanted string
	// Replaced is set when Wanted held the name before and Holder replaced it.
	Replaced bool
}

func (e *PayloadConflictError) Error() string {
	if e.Replaced {
		return fmt.Sprintf("release %s in namespace %s was imported from %s and has since been replaced by %s; "+
			"a replaced payload does not take the name back: import %s under another release name or in another namespace",
			e.Release, e.Namespace, e.Wanted, e.Holder, e.Wanted)
	}
	return fmt.Sprintf("release %s in namespace %s is being imported from %s, and this process imports %s; "+
		"a release name holds one payload at a time: run again once that import has finished (the newer payload then replaces it), "+
		"or import %s under another release name or in another namespace",
		e.Release, e.Namespace, e.Holder, e.Wanted, e.Wanted)
}

// payloadClaim is this process's hold on the release name for its payload.
type payloadClaim struct {
	// store reads the record from the run's watch of it; fresh from the
	// server, for the checks that must not lag behind other objects.
	store, fresh     imagestreams.LeaseStore
	release, payload string
	duration         time.Duration
	clock            func() time.Time
	stopRenewing     context.CancelFunc
	renewing         chan struct{}
	seenRV           string
	seenAt           time.Time
	// leader is true when this process's write made the record name its
	// payload (or it took over from a leader that did not act): it creates
	// the payload's pods, the others adopt them.
	mu     sync.Mutex
	leader bool
}

// claimPayload joins or takes the release name for payload (steps 1-3), and
// renews the record until stop is called.
func (s *importReleaseStep) claimPayload(ctx context.Context, namespace, payload string) (*payloadClaim, error) {
	c := &payloadClaim{
		store:    imagestreams.LeaseStore{Client: s.client, Key: ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: PayloadLeaseName(s.config.Name)}},
		fresh:    imagestreams.LeaseStore{Client: s.client.WithWatch, Key: ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: PayloadLeaseName(s.config.Name)}},
		release:  s.config.Name,
		payload:  payload,
		duration: max(s.config.ClaimDuration, DefaultPayloadClaimDuration),
		clock:    time.Now,
	}
	err := onConflict(ctx, func() error { return c.take(ctx) })
	if err != nil {
		return nil, err
	}
	renewCtx, cancel := context.WithCancel(ctx)
	c.stopRenewing, c.renewing = cancel, make(chan struct{})
	go func() { defer close(c.renewing); c.renew(renewCtx) }()
	return c, nil
}

// onConflict runs f again on a conflict: the record changed since it was read.
func onConflict(ctx context.Context, f func() error) error {
	return wait.ExponentialBackoffWithContext(ctx, leaseConflictBackoff, func(context.Context) (bool, error) {
		err := f()
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return true, err
	})
}

var leaseConflictBackoff = wait.Backoff{Steps: 20, Duration: 5 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: time.Second}

func (c *payloadClaim) take(ctx context.Context) error {
	lease, err := c.store.Get(ctx)
	if err != nil {
		return err
	}
	rec, holder, now := readPayloadRecord(lease), imagestreams.HolderOf(lease), c.clock()
	switch {
	case holder == c.payload:
		return nil
	case holder != "" && rec.Replaced == c.payload:
		return &PayloadConflictError{Release: c.release, Namespace: c.store.Key.Namespace, Holder: holder, Wanted: c.payload, Replaced: true}
	case holder != "" && rec.State != payloadComplete && now.Before(c.expiry(lease, now)):
		return &PayloadConflictError{Release: c.release, Namespace: c.store.Key.Namespace, Holder: holder, Wanted: c.payload}
	}
	imagestreams.Hold(lease, c.payload, c.duration, now)
	writePayloadRecord(lease, payloadRecord{State: payloadImporting, Replaced: holder})
	if err := c.store.Put(ctx, lease); err != nil {
		return err
	}
	c.lead()
	return nil
}

// podOptions are the options of the payload's pods for this process: one
// that is not the leader waits up to takeover for the leader to create a
// pod before it creates it itself.
func (c *payloadClaim) podOptions(takeover time.Duration) []pods.Option {
	return createOptions(c.isLeader(), takeover)
}

func createOptions(leader bool, takeover time.Duration) []pods.Option {
	if leader {
		return nil
	}
	return []pods.Option{pods.WithCreateDelay(takeover)}
}

func (c *payloadClaim) isLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// lead makes this process the leader: the leader did not make a write it
// should have within the takeover time.
func (c *payloadClaim) lead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader = true
}

// expiry bounds the wait on a record by this process's clock as well as by
// the renew time written in it (see imagestreams.LeaseExpiry).
func (c *payloadClaim) expiry(lease *coordinationv1.Lease, now time.Time) time.Time {
	if lease.ResourceVersion != c.seenRV {
		c.seenRV, c.seenAt = lease.ResourceVersion, now
	}
	return imagestreams.LeaseExpiry(lease, c.seenAt)
}

// renew keeps an "importing" record alive (step 4); of N processes, the one
// that finds it a third of its duration old renews it.
func (c *payloadClaim) renew(ctx context.Context) {
	period := max(c.duration/3, 10*time.Millisecond)
	_ = wait.PollUntilContextCancel(ctx, period, false, func(ctx context.Context) (bool, error) {
		lease, err := c.store.Get(ctx)
		if err != nil {
			return false, nil //nolint:nilerr // a failed read is tried again at the next period
		}
		if imagestreams.HolderOf(lease) != c.payload {
			return true, nil // lost: step 5 fails the run
		}
		if readPayloadRecord(lease).State == payloadImporting && lease.Spec.RenewTime != nil && c.clock().Sub(lease.Spec.RenewTime.Time) >= period {
			imagestreams.Hold(lease, c.payload, c.duration, c.clock())
			_ = c.store.Put(ctx, lease) // a conflict: another process renewed it
		}
		return false, nil
	})
}

func (c *payloadClaim) stop() {
	c.stopRenewing()
	<-c.renewing
}

// check fails when the record no longer names this process's payload.
func (c *payloadClaim) check(ctx context.Context) (*coordinationv1.Lease, error) {
	return c.checkIn(ctx, c.store)
}

// checkFresh is check on the record as the server has it: the run's
// watches of the record and of the streams are not ordered with each
// other, so a stream's change may arrive before the record's change that
// explains it.
func (c *payloadClaim) checkFresh(ctx context.Context) (*coordinationv1.Lease, error) {
	return c.checkIn(ctx, c.fresh)
}

func (c *payloadClaim) checkIn(ctx context.Context, store imagestreams.LeaseStore) (*coordinationv1.Lease, error) {
	lease, err := store.Get(ctx)
	if err != nil {
		return nil, err
	}
	if lease.ResourceVersion == "" {
		return nil, fmt.Errorf("the payload record %s of release %s was deleted while %s was being imported; run again to import it",
			c.store.Key, c.release, c.payload)
	}
	if holder := imagestreams.HolderOf(lease); holder != c.payload {
		rec := readPayloadRecord(lease)
		return nil, &PayloadConflictError{Release: c.release, Namespace: c.store.Key.Namespace, Holder: holder, Wanted: c.payload, Replaced: rec.Replaced == c.payload}
	}
	return lease, nil
}

// complete checks that the record still names this process's payload and
// runs verify after that read (step 5); the merger then marks the record
// complete, conditionally on the version read.
func (c *payloadClaim) complete(ctx context.Context, merger bool, verify func() error) error {
	return onConflict(ctx, func() error {
		lease, err := c.check(ctx)
		if err != nil {
			return err
		}
		if err := verify(); err != nil {
			if _, lost := c.checkFresh(ctx); lost != nil {
				return lost
			}
			return err
		}
		rec := readPayloadRecord(lease)
		if rec.State == payloadComplete || !merger {
			return nil
		}
		rec.State = payloadComplete
		writePayloadRecord(lease, rec)
		return c.store.Put(ctx, lease)
	})
}

// recordConfigMap checks the digest of the extracted image references
// against the record, and, for the merger, records it when the record has
// none for name (a follower that finds none leaves it to the merger).
func (c *payloadClaim) recordConfigMap(ctx context.Context, name, digest string, merger bool) error {
	return onConflict(ctx, func() error {
		lease, err := c.check(ctx)
		if err != nil {
			return err
		}
		rec := readPayloadRecord(lease)
		if rec.ConfigMap == name {
			if rec.ConfigMapSHA256 != digest {
				return fmt.Errorf("ConfigMap %s/%s does not hold the image references extracted for %s: its data has sha256 %s, %s recorded %s; delete it to extract them again",
					c.store.Key.Namespace, name, c.payload, digest, PayloadLeaseName(c.release), rec.ConfigMapSHA256)
			}
			return nil
		}
		if !merger {
			return nil
		}
		rec.ConfigMap, rec.ConfigMapSHA256 = name, digest
		writePayloadRecord(lease, rec)
		return c.store.Put(ctx, lease)
	})
}
