package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordingSleep is a SleepFunc that returns at once and records the waits.
type recordingSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *recordingSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *recordingSleep) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waits
}

func TestFaultLatency(t *testing.T) {
	testCases := []struct {
		name      string
		rules     []FaultRule
		resolve   func(rel *Release) string
		wantWaits []time.Duration
	}{
		{
			name:      "exact match",
			rules:     []FaultRule{{PullSpec: DefaultHost + "/ocp/release:" + testRelease, Latency: 3 * time.Second}},
			resolve:   func(rel *Release) string { return rel.PullSpec },
			wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name:      "prefix match",
			rules:     []FaultRule{{PullSpec: DefaultHost + "/ocp/release-art-dev@*", Latency: time.Second}},
			resolve:   func(rel *Release) string { return rel.CLIPullSpec },
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:    "no match",
			rules:   []FaultRule{{PullSpec: DefaultHost + "/ocp/release-art-dev@*", Latency: time.Second}},
			resolve: func(rel *Release) string { return rel.PullSpec },
		},
		{
			name:    "exact rule does not match as a prefix",
			rules:   []FaultRule{{PullSpec: DefaultHost + "/ocp/release", Latency: time.Second}},
			resolve: func(rel *Release) string { return rel.PullSpec },
		},
		{
			name: "matching rules add up",
			rules: []FaultRule{
				{PullSpec: "*", Latency: 2 * time.Second},
				{PullSpec: DefaultHost + "/ocp/release:" + testRelease, Latency: 3 * time.Second},
			},
			resolve:   func(rel *Release) string { return rel.PullSpec },
			wantWaits: []time.Duration{5 * time.Second},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			sleeper := &recordingSleep{}
			reg := New(WithSleep(sleeper.sleep))
			rel := reg.AddRelease(testRelease, WithImages(2))
			for _, rule := range tc.rules {
				reg.AddFault(rule)
			}
			if _, err := reg.Resolve(t.Context(), tc.resolve(rel)); err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tc.wantWaits, sleeper.recorded()); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFaultLatencyCancelled(t *testing.T) {
	entered := make(chan struct{})
	blockingSleep := func(ctx context.Context, d time.Duration) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}
	testCases := []struct {
		name  string
		sleep SleepFunc
	}{
		{name: "sleep hook", sleep: blockingSleep},
		// The default timer would wait an hour unless it honours ctx.
		{name: "default timer"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.sleep != nil {
				opts = append(opts, WithSleep(tc.sleep))
			}
			reg := New(opts...)
			rel := reg.AddRelease(testRelease, WithImages(1))
			reg.AddFault(FaultRule{PullSpec: rel.PullSpec, Latency: time.Hour})

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, err := reg.Resolve(ctx, rel.PullSpec)
				done <- err
			}()
			if tc.sleep != nil {
				<-entered
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Resolve error = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Resolve did not return after its context was cancelled")
			}
		})
	}
}

func TestSleepContext(t *testing.T) {
	if err := sleepContext(t.Context(), time.Millisecond); err != nil {
		t.Errorf("sleepContext(1ms) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() { done <- sleepContext(ctx, time.Hour) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("sleepContext(cancelled, 1h) = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sleepContext(cancelled, 1h) did not return")
	}
}

func TestResolveCancelledWithoutLatency(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if img, err := reg.Resolve(ctx, rel.PullSpec); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled context = %v, %v; want context.Canceled", img, err)
	}
}

func TestFaultFailFirst(t *testing.T) {
	testCases := []struct {
		name      string
		failFirst int
		calls     int
	}{
		{name: "zero never fails", failFirst: 0, calls: 2},
		{name: "one", failFirst: 1, calls: 3},
		{name: "three", failFirst: 3, calls: 5},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			reg := New()
			rel := reg.AddRelease(testRelease, WithImages(1))
			// Calls before the rule exists do not count toward FailFirst.
			if _, err := reg.Resolve(t.Context(), rel.CLIPullSpec); err != nil {
				t.Fatalf("Resolve before the fault: %v", err)
			}
			reg.AddFault(FaultRule{PullSpec: rel.CLIPullSpec, FailFirst: tc.failFirst})
			want := &ImportError{
				Reason:  ReasonInternalError,
				Message: "Internal error occurred: " + rel.CLIPullSpec + ": received unexpected HTTP status: 500 Internal Server Error",
			}
			for call := 1; call <= tc.calls; call++ {
				img, err := reg.Resolve(t.Context(), rel.CLIPullSpec)
				if call <= tc.failFirst {
					var importErr *ImportError
					if !errors.As(err, &importErr) {
						t.Fatalf("call %d = %v, %v; want an *ImportError", call, img, err)
					}
					if diff := cmp.Diff(want, importErr); diff != "" {
						t.Errorf("call %d error mismatch (-want +got):\n%s", call, diff)
					}
					continue
				}
				if err != nil || img.Kind != KindCLI {
					t.Errorf("call %d = %v, %v; want the cli image", call, img, err)
				}
			}
			if got := reg.Resolves(rel.CLIPullSpec); got != tc.calls+1 {
				t.Errorf("Resolves = %d, want %d", got, tc.calls+1)
			}
		})
	}
}

func TestFaultFailFirstCountsPerPullSpec(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(3))
	reg.AddFault(FaultRule{PullSpec: DefaultHost + "/ocp/release-art-dev@*", FailFirst: 1})
	for _, tag := range rel.Tags {
		if _, err := reg.Resolve(t.Context(), tag.PullSpec); ReasonOf(err) != ReasonInternalError {
			t.Errorf("first Resolve(%s) = %v, want InternalError", tag.Name, err)
		}
		if _, err := reg.Resolve(t.Context(), tag.PullSpec); err != nil {
			t.Errorf("second Resolve(%s) = %v, want success", tag.Name, err)
		}
	}
	if _, err := reg.Resolve(t.Context(), rel.PullSpec); err != nil {
		t.Errorf("Resolve(payload) = %v; the art repository rule must not match it", err)
	}
}

func TestFaultPermanent(t *testing.T) {
	testCases := []struct {
		reason      Reason
		wantMessage func(ref string) string
	}{
		{reason: ReasonNotFound, wantMessage: func(ref string) string {
			return fmt.Sprintf("dockerimage.image.openshift.io %q not found", ref)
		}},
		{reason: ReasonUnauthorized, wantMessage: func(ref string) string {
			return fmt.Sprintf("you may not have access to the container image %q", ref)
		}},
		{reason: ReasonInternalError, wantMessage: func(ref string) string {
			return "Internal error occurred: " + ref + ": received unexpected HTTP status: 500 Internal Server Error"
		}},
	}
	for _, tc := range testCases {
		t.Run(string(tc.reason), func(t *testing.T) {
			reg := New()
			rel := reg.AddRelease(testRelease, WithImages(1))
			remove := reg.AddFault(FaultRule{PullSpec: rel.PullSpec, Permanent: tc.reason})
			want := &ImportError{Reason: tc.reason, Message: tc.wantMessage(rel.PullSpec)}
			for call := 1; call <= 3; call++ {
				_, err := reg.Resolve(t.Context(), rel.PullSpec)
				var importErr *ImportError
				if !errors.As(err, &importErr) {
					t.Fatalf("call %d error = %v, want an *ImportError", call, err)
				}
				if diff := cmp.Diff(want, importErr); diff != "" {
					t.Errorf("call %d error mismatch (-want +got):\n%s", call, diff)
				}
				if got := importErr.Error(); got != want.Message {
					t.Errorf("Error() = %q, want %q", got, want.Message)
				}
			}
			if _, err := reg.Resolve(t.Context(), rel.DigestPullSpec); err != nil {
				t.Errorf("Resolve by digest = %v; the rule is for the tag only", err)
			}
			remove()
			remove()
			if _, err := reg.Resolve(t.Context(), rel.PullSpec); err != nil {
				t.Errorf("Resolve after remove = %v, want success", err)
			}
		})
	}
}

func TestFaultPermanentWinsOverFailFirst(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(1))
	reg.AddFault(FaultRule{PullSpec: "*", FailFirst: 5})
	reg.AddFault(FaultRule{PullSpec: rel.PullSpec, Permanent: ReasonUnauthorized})
	if _, err := reg.Resolve(t.Context(), rel.PullSpec); ReasonOf(err) != ReasonUnauthorized {
		t.Errorf("Resolve = %v, want Unauthorized", err)
	}
}

func TestAddFaultRejectsBadRules(t *testing.T) {
	testCases := []struct {
		name string
		rule FaultRule
	}{
		{name: "empty pull spec", rule: FaultRule{Latency: time.Second}},
		{name: "negative latency", rule: FaultRule{PullSpec: "*", Latency: -time.Second}},
		{name: "negative FailFirst", rule: FaultRule{PullSpec: "*", FailFirst: -1}},
		{name: "unknown reason", rule: FaultRule{PullSpec: "*", Permanent: "Forbidden"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("AddFault(%+v) did not panic", tc.rule)
				}
			}()
			New().AddFault(tc.rule)
		})
	}
}

func TestResolvesCountsEveryCall(t *testing.T) {
	reg := New()
	rel := reg.AddRelease(testRelease, WithImages(1))
	reg.AddFault(FaultRule{PullSpec: rel.CLIPullSpec, Permanent: ReasonNotFound})
	calls := map[string]int{rel.PullSpec: 3, rel.CLIPullSpec: 2, DefaultHost + "/ocp/release:missing": 1, "malformed": 1}
	for spec, n := range calls {
		for range n {
			_, _ = reg.Resolve(t.Context(), spec)
		}
	}
	got := map[string]int{}
	for spec := range calls {
		got[spec] = reg.Resolves(spec)
	}
	if diff := cmp.Diff(calls, got); diff != "" {
		t.Errorf("Resolves mismatch (-want +got):\n%s", diff)
	}
	if got := reg.TotalResolves(); got != 7 {
		t.Errorf("TotalResolves = %d, want 7", got)
	}
}

func TestReasonOf(t *testing.T) {
	testCases := []struct {
		name string
		err  error
		want Reason
	}{
		{name: "nil"},
		{name: "import error", err: notFoundError("x"), want: ReasonNotFound},
		{name: "wrapped", err: fmt.Errorf("importing: %w", unauthorizedError("x")), want: ReasonUnauthorized},
		{name: "context error", err: context.Canceled},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReasonOf(tc.err); got != tc.want {
				t.Errorf("ReasonOf(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
