package release

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkShards imports a 190-image release with N shards and, in the same
// iteration, with one shard, and reports the ratios: how much longer N shards
// take than one (wall-ratio), how their state-changing writes and imports
// compare with one shard's (both 1.0 when the work is done once), and how
// many requests each shard makes. Absolute times on a shared machine are
// noise; the ratios are the result.
func BenchmarkShards(b *testing.B) {
	for _, n := range []int{2, 8, 16, 32} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			var wallRatio, writesRatio, importsRatio, requestsPerShard float64
			iterations := 0
			for b.Loop() {
				one := measure(b, 1)
				many := measure(b, n)
				wallRatio += many.wall.Seconds() / one.wall.Seconds()
				writesRatio += float64(many.writes) / float64(one.writes)
				importsRatio += float64(many.imports) / float64(one.imports)
				requestsPerShard += float64(many.requests) / float64(n)
				iterations++
			}
			b.ReportMetric(wallRatio/float64(iterations), "wall-ratio")
			b.ReportMetric(writesRatio/float64(iterations), "writes-ratio")
			b.ReportMetric(importsRatio/float64(iterations), "imports-ratio")
			b.ReportMetric(requestsPerShard/float64(iterations), "requests/shard")
		})
	}
}

type measurement struct {
	wall                      time.Duration
	writes, imports, requests int
}

func measure(b *testing.B, shards int) measurement {
	b.Helper()
	env := newTestEnv(b, 190, "latest")
	start := time.Now()
	runShards(b, env, shards, "latest")
	wall := time.Since(start)
	stats := env.cluster.Stats()
	return measurement{wall: wall, writes: stats.WritesBy(isShard), imports: stats.TotalImports(), requests: stats.RequestsBy(isShard)}
}
