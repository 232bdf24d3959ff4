package release_test

import (
	"fmt"
	"testing"

	"github.com/ci-operator-plugins/import-release/test/bench"
)

// BenchmarkShards imports a generated payload with N shards and, in the same
// iteration, with one shard, on the embedded latency profile, and reports
// the ratios and counts `make bench` tabulates: how much longer N shards take
// than one, the payload merge applies they sent, and what each shard beyond
// the first adds in requests and bytes. Absolute times on a shared machine
// are noise; the ratios are the result. `make bench` runs the same
// measurement over every cell and prints one table and a chart.
func BenchmarkShards(b *testing.B) {
	for _, images := range []int{190, 2000} {
		for _, n := range []int{2, 8, 16, 32} {
			b.Run(fmt.Sprintf("images=%d/shards=%d", images, n), func(b *testing.B) {
				var pairs []bench.Pair
				for b.Loop() {
					p, err := bench.MeasurePair(b.Context(), n, images, bench.Options{})
					if err != nil {
						b.Fatal(err)
					}
					pairs = append(pairs, p)
				}
				row := bench.Summarize(pairs)
				b.ReportMetric(row.WallRatio, "wall-ratio")
				b.ReportMetric(float64(row.MergeAppliesMax), "merge-applies")
				b.ReportMetric(row.Mutating, "mutating-requests")
				b.ReportMetric(row.RequestsPerFollower, "requests/follower")
				b.ReportMetric(row.BytesPerFollower, "sent+watched-bytes/follower")
				b.ReportMetric(row.AnswerBytesPerFollower, "answer-bytes/follower")
				b.ReportMetric(row.Imports, "imports")
				b.ReportMetric(row.Pods, "pods")
			})
		}
	}
}
