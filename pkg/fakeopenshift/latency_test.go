package fakeopenshift

import (
	"testing"
	"time"
)

// TestRealClusterLatency: the real cluster's profile imports a 190-image
// payload in 30-90s, and Scaled keeps its ratios (and the time scale of grace
// periods) at a hundredth and a thousandth.
func TestRealClusterLatency(t *testing.T) {
	importOf := func(l Latency, images int) time.Duration {
		return l.ImportBase + time.Duration(images)*l.ImportPerImage
	}
	if got := importOf(RealClusterLatency, 190); got < 30*time.Second || got > 90*time.Second {
		t.Errorf("a 190-image import takes %s on the real profile, want 30-90s", got)
	}
	for _, factor := range []float64{0.01, 0.001} {
		scaled := RealClusterLatency.Scaled(factor)
		if got, want := importOf(scaled, 190), time.Duration(float64(importOf(RealClusterLatency, 190))*factor); got != want {
			t.Errorf("scaled by %g: import %s, want %s", factor, got, want)
		}
		if got, want := scaled.PodStart*time.Duration(1/factor+0.5), RealClusterLatency.PodStart; got != want {
			t.Errorf("scaled by %g: pod start %s scales back to %s, want %s", factor, scaled.PodStart, got, want)
		}
		if got, want := scaled.scaled(30*time.Second), time.Duration(float64(30*time.Second)*factor); got != want {
			t.Errorf("scaled by %g: a 30s grace period takes %s, want %s", factor, got, want)
		}
	}
	if got := (Latency{}).scaled(30 * time.Second); got != 0 {
		t.Errorf("the zero profile makes a grace period take %s, want no time", got)
	}
}
