package bench

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// fakeRun builds a Run whose every shard made the given requests: merges
// payload merge applies in all, and per shard reads gets, with answers of
// answerBytes each.
func fakeRun(shards, merges, reads int, wall time.Duration, answerBytes int64) Run {
	stats := fakeopenshift.Stats{Calls: map[fakeopenshift.Call]int{}, Requests: map[fakeopenshift.RequestKey]int{},
		RequestBytes: map[string]int64{}, WatchBytes: map[string]int64{}, PodsCreated: map[string]int{"ns/cli": 1, "ns/extract": 1},
		Imports: map[fakeopenshift.TagKey]int{{Tag: "a"}: 1, {Tag: "b"}: 1}}
	profile := newProfile()
	for i := range shards {
		shard := ShardName(i)
		get := fakeopenshift.Call{Process: shard, Verb: "get", Kind: "ImageStream", Outcome: fakeopenshift.OutcomeRead}
		stats.Calls[get] = reads
		stats.Requests[fakeopenshift.RequestKey{Process: shard, Verb: "get", Kind: "ImageStream"}] = reads
		stats.WatchBytes[shard] = 1000
		profile.add(shard, Op{Verb: "get", Kind: "ImageStream"}, Traffic{Requests: reads, AnswerBytes: int64(reads) * answerBytes})
	}
	for i := range merges {
		shard := ShardName(i % shards)
		apply := fakeopenshift.Call{Process: shard, Verb: "apply", Kind: "ImageStream", Manager: imagestreams.ManagerPayload, Outcome: fakeopenshift.OutcomeWritten}
		stats.Calls[apply]++
		stats.Requests[fakeopenshift.RequestKey{Process: shard, Verb: "apply", Kind: "ImageStream"}]++
		stats.RequestBytes[shard] += 500
	}
	// The controller's requests are not the shards'.
	stats.Calls[fakeopenshift.Call{Process: fakeopenshift.ControllerProcess, Verb: "apply", Kind: "ImageStream", Manager: imagestreams.ManagerPayload}] = 7
	return Run{Shards: shards, Images: 2, Wall: wall, Stats: stats, Profile: profile}
}

func TestSummarize(t *testing.T) {
	pairs := []Pair{
		{One: fakeRun(1, 1, 3, time.Second, 100), Many: fakeRun(4, 1, 5, 2*time.Second, 100)},
		{One: fakeRun(1, 1, 3, time.Second, 100), Many: fakeRun(4, 3, 5, 1500*time.Millisecond, 100)},
		{One: fakeRun(1, 1, 3, 2*time.Second, 100), Many: fakeRun(4, 2, 5, 5*time.Second, 100)},
	}
	got := Summarize(pairs)
	// Followers add (4*5 - 3) reads and (4 - 1) watch bytes of 1000, plus
	// the extra merges' requests and 500-byte bodies, over 3 followers.
	want := Row{
		Shards: 4, Images: 2, Pairs: 3,
		WallRatio:       2,
		MergeAppliesMin: 1, MergeAppliesMax: 3,
		Mutating:               2,
		RequestsPerFollower:    (20 + 2 - 3 - 1) / 3.0,
		BytesPerFollower:       (4000 + 1000 - 1000 - 500) / 3.0,
		AnswerBytesPerFollower: (2000 - 300) / 3.0,
		Imports:                2, Pods: 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

func TestWriteTableAndChart(t *testing.T) {
	rows := []Row{
		Summarize([]Pair{{One: fakeRun(1, 1, 3, time.Second, 100), Many: fakeRun(1, 1, 3, time.Second, 100)}}),
		Summarize([]Pair{{One: fakeRun(1, 1, 3, time.Second, 100), Many: fakeRun(4, 2, 5, 3*time.Second, 100)}}),
	}
	var table bytes.Buffer
	if err := WriteTable(&table, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want a header and 2 rows:\n%s", len(lines), table.String())
	}
	if diff := cmp.Diff([]string{"1", "2", "1", "1.00", "1", "1", "-", "-", "-", "2", "2"}, strings.Fields(lines[1])); diff != "" {
		t.Errorf("one-shard row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"4", "2", "1", "3.00", "2", "2", "6.0", "1", "1", "2", "2"}, strings.Fields(lines[2])); diff != "" {
		t.Errorf("four-shard row (-want +got):\n%s", diff)
	}

	var chart bytes.Buffer
	if err := WriteChart(&chart, rows, "test"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&chart)
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
		t.Errorf("the chart is %dx%d, too small to read", b.Dx(), b.Dy())
	}
}
