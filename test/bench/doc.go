// Package bench measures what N concurrent shards of an aggregated job cost
// against one shard alone, when they import the same release into one
// namespace of the fake OpenShift on the embedded latency profile (a real
// cluster's latencies divided by a hundred).
//
//	pair, err := bench.MeasurePair(ctx, 16, 2000, bench.Options{})
//	row := bench.Summarize([]bench.Pair{pair})
//
// Every measurement is a pair: one shard, then N shards, each on a cluster
// of its own, back to back, so that the wall-time ratio compares runs that
// saw the same machine load. Counts come from the fake's counters and from a
// client wrapper that sizes each request, answer and watch event as JSON (so
// the reads of a stream of thousands of tags show). A follower's cost is
// what each shard beyond the first adds: (N shards' total - one shard's) /
// (N - 1), since which process leads changes from stage to stage.
//
// Limits: wall times on a shared machine are noisy (compare ratios within
// one pair, and medians of several); sizing objects as JSON costs CPU in
// the measured process, the same for one shard and N.
package bench
