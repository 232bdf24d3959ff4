package diagnose

import (
	"context"
	"sort"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// LeaseRecords reads the re-trigger record the step keeps in the Lease
// imagestreams.RetriggerLeaseName(stream): its holder, and per tag the
// attempts of the current failure episode. A tag's claim is open while the
// Lease is held, not expired, and the tag's episode not given up.
type LeaseRecords struct{}

func (LeaseRecords) Read(ctx context.Context, client ctrlruntimeclient.Reader, stream *imagev1.ImageStream) (*Record, error) {
	if stream == nil {
		return nil, nil
	}
	lease := &coordinationv1.Lease{}
	err := client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: stream.Namespace, Name: imagestreams.RetriggerLeaseName(stream.Name)}, lease)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	held := imagestreams.HolderOf(lease) != "" && now.Before(imagestreams.LeaseExpiry(lease, now))
	r := &Record{}
	if held {
		r.Holder = imagestreams.HolderOf(lease)
	}
	for tag, e := range imagestreams.ReadRetriggerLedger(lease) {
		r.Tags = append(r.Tags, RecordTag{Tag: tag, From: e.From, Attempts: e.Attempts, Open: held && !e.Spent})
	}
	sort.Slice(r.Tags, func(i, j int) bool { return r.Tags[i].Tag < r.Tags[j].Tag })
	return r, nil
}
