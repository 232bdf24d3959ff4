package diagnose

import (
	"context"
	"encoding/json"
	"sort"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// Record is what a diagnosis shows of the re-trigger record of one stream:
// per tag, the source its budget is for, the re-triggers counted, and
// whether one is open (claimed and not finished).
type Record struct {
	Holder string      `json:"holder,omitempty"`
	Tags   []RecordTag `json:"tags"`
}

// RecordTag is the record of one tag.
type RecordTag struct {
	Tag      string `json:"tag"`
	From     string `json:"from"`
	Attempts int    `json:"attempts"`
	Open     bool   `json:"open"`
}

func (r *Record) openClaims() map[string]bool {
	open := map[string]bool{}
	if r != nil {
		for _, t := range r.Tags {
			open[t.Tag] = t.Open
		}
	}
	return open
}

// RecordReader reads the re-trigger record kept for stream (nil when the
// stream does not exist); it returns nil when there is none.
type RecordReader interface {
	Read(ctx context.Context, client ctrlruntimeclient.Reader, stream *imagev1.ImageStream) (*Record, error)
}

// Records reads the Lease the step keeps (LeaseRecords) and, for a stream
// without one, the annotation earlier versions of the step kept on the
// stream (StreamRecords).
type Records struct{}

func (Records) Read(ctx context.Context, client ctrlruntimeclient.Reader, stream *imagev1.ImageStream) (*Record, error) {
	r, err := LeaseRecords{}.Read(ctx, client, stream)
	if r != nil || err != nil {
		return r, err
	}
	return StreamRecords{}.Read(ctx, client, stream)
}

// StreamRecords reads the record earlier versions of the step kept in the
// annotation imagestreams.RetriggerAnnotation of the stream itself: a JSON
// object of tag -> {from, claimed, done}.
type StreamRecords struct{}

// streamRecordEntry mirrors one entry of the annotation.
type streamRecordEntry struct {
	From    string `json:"from"`
	Claimed int    `json:"claimed"`
	Done    bool   `json:"done"`
}

func (StreamRecords) Read(_ context.Context, _ ctrlruntimeclient.Reader, stream *imagev1.ImageStream) (*Record, error) {
	if stream == nil || stream.Annotations[imagestreams.RetriggerAnnotation] == "" {
		return nil, nil
	}
	entries := map[string]streamRecordEntry{}
	if err := json.Unmarshal([]byte(stream.Annotations[imagestreams.RetriggerAnnotation]), &entries); err != nil {
		return nil, err
	}
	r := &Record{}
	for tag, e := range entries {
		r.Tags = append(r.Tags, RecordTag{Tag: tag, From: e.From, Attempts: e.Claimed, Open: !e.Done})
	}
	sort.Slice(r.Tags, func(i, j int) bool { return r.Tags[i].Tag < r.Tags[j].Tag })
	return r, nil
}
