package fakeopenshift

import "time"

// Latency is how long the fake takes for each kind of work. The zero value
// makes everything instant; DefaultLatency is a profile scaled down so that
// tests run in seconds; RealClusterLatency is a real cluster's.
type Latency struct {
	// API is added to every request a client makes.
	API time.Duration
	// ImportBase is added to every ImageStreamImport (the controller's and
	// clients'), on top of the registry's own latency per image.
	ImportBase time.Duration
	// ImportPerImage is added per image in an import; imports of many images
	// take long, which is what makes them lose to concurrent writers.
	ImportPerImage time.Duration
	// ImportRetryBase and ImportRetryMax bound the import controller's
	// exponential backoff after a conflict.
	ImportRetryBase, ImportRetryMax time.Duration
	// PodSchedule is how long a new pod waits to be bound to the node.
	PodSchedule time.Duration
	// PodStart is how long a bound pod stays Pending (image pull, container
	// start); PodRun how long it runs.
	PodStart, PodRun time.Duration
	// PodStop is how long a container takes to exit on SIGTERM when its pod
	// is deleted gracefully (never longer than the grace period).
	PodStop time.Duration
	// TimeScale converts the durations objects carry in real seconds (a
	// pod's grace period) into the fake's time: 1 for a real cluster's
	// profile, 0.01 for one run a hundred times faster; 0, as every other
	// field, makes them instant.
	TimeScale float64
}

// RealClusterLatency is a real cluster's profile, as measured on OpenShift
// CI build farms: API requests ~10ms; a 190-image payload import about a
// minute (1s plus 300ms per image: 30-90s is the range seen); the import
// controller's per-item backoff after a conflict from 5ms up to 1000s (the
// workqueue's default rate limiter); a pod bound in ~1s, its image pulled
// and started in ~15s, the extraction ~10s; a container stops ~1s after
// SIGTERM. Scale it with Scaled to run a real cluster's ratios fast.
var RealClusterLatency = Latency{
	API:             10 * time.Millisecond,
	ImportBase:      time.Second,
	ImportPerImage:  300 * time.Millisecond,
	ImportRetryBase: 5 * time.Millisecond,
	ImportRetryMax:  1000 * time.Second,
	PodSchedule:     time.Second,
	PodStart:        15 * time.Second,
	PodRun:          10 * time.Second,
	PodStop:         time.Second,
	TimeScale:       1,
}

// Scaled returns the profile with every duration multiplied by factor
// (0.01 runs a hundred times faster) and TimeScale set to match, so the
// ratios between API requests, imports and pods stay a real cluster's.
func (l Latency) Scaled(factor float64) Latency {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * factor) }
	return Latency{
		API: s(l.API), ImportBase: s(l.ImportBase), ImportPerImage: s(l.ImportPerImage),
		ImportRetryBase: s(l.ImportRetryBase), ImportRetryMax: s(l.ImportRetryMax),
		PodSchedule: s(l.PodSchedule), PodStart: s(l.PodStart), PodRun: s(l.PodRun), PodStop: s(l.PodStop),
		TimeScale: l.TimeScale * factor,
	}
}

// scaled converts a real-cluster duration into the profile's time.
func (l Latency) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * l.TimeScale)
}

// DefaultLatency keeps the order of a real cluster's latencies (API requests
// fastest, then imports, then pods) at test speed: API 0.2ms, a 190-image
// import ~12ms, pods ~60ms (bound after 10ms). Imports are shorter, relative to writes, than on
// a real cluster (where a payload import takes tens of seconds), so races
// that need a write to land during an import are rarer; a test that needs
// them uses RealClusterLatency.Scaled or makes an import slow with a
// registry Latency fault. Grace periods run at 1/1000.
var DefaultLatency = Latency{
	API:             200 * time.Microsecond,
	ImportBase:      2 * time.Millisecond,
	ImportPerImage:  50 * time.Microsecond,
	ImportRetryBase: time.Millisecond,
	ImportRetryMax:  200 * time.Millisecond,
	PodSchedule:     10 * time.Millisecond,
	PodStart:        20 * time.Millisecond,
	PodRun:          30 * time.Millisecond,
	PodStop:         time.Millisecond,
	TimeScale:       0.001,
}

// EmbeddedLatency is the import-release command's embedded cluster and the
// benchmarks' profile, a real cluster's divided by a hundred as first
// measured: API requests ~10ms, an import ~1s plus ~100ms per image, pods
// ~10s to start and ~20s to run. A run of a 190-image payload takes about a
// second.
var EmbeddedLatency = Latency{
	API:             100 * time.Microsecond,
	ImportBase:      10 * time.Millisecond,
	ImportPerImage:  time.Millisecond,
	ImportRetryBase: time.Millisecond,
	ImportRetryMax:  500 * time.Millisecond,
	PodStart:        100 * time.Millisecond,
	PodRun:          200 * time.Millisecond,
}
