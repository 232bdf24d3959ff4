package apiretry

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestIsTransient(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	testCases := []struct {
		name string
		err  error
		want bool
	}{
		{name: "429", err: apierrors.NewTooManyRequests("slow down", 1), want: true},
		{name: "500", err: apierrors.NewInternalError(errors.New("boom")), want: true},
		{name: "504", err: apierrors.NewTimeoutError("late", 0), want: true},
		{name: "503", err: apierrors.NewServiceUnavailable("down"), want: true},
		{name: "409", err: apierrors.NewConflict(gr, "x", errors.New("modified"))},
		{name: "404", err: apierrors.NewNotFound(gr, "x")},
		{name: "not an API error", err: errors.New("boom")},
		{name: "nil", err: nil},
	}
	for _, tc := range testCases {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("%s: IsTransient = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep did not end with its context")
	}
}

// TestDoIfReturnsTheAttemptsError: client-go's retry.OnError answers an
// attempt that failed with a context error by nil (wait.Interrupted), so a
// write cut short looked like one that landed. DoIf returns what the
// attempt returned, and retries only what retriable reports.
func TestDoIfReturnsTheAttemptsError(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "leases"}, "l", errors.New("changed"))
	backoff := wait.Backoff{Steps: 3, Duration: time.Millisecond}
	testCases := []struct {
		name         string
		errs         []error
		wantErr      error
		wantAttempts int
	}{
		{name: "context ended in the first attempt", errs: []error{context.DeadlineExceeded}, wantErr: context.DeadlineExceeded, wantAttempts: 1},
		{name: "context ended after a conflict", errs: []error{conflict, context.Canceled}, wantErr: context.Canceled, wantAttempts: 2},
		{name: "conflicts until the budget is spent", errs: []error{conflict, conflict, conflict, nil}, wantErr: conflict, wantAttempts: 3},
		{name: "a conflict, then success", errs: []error{conflict, nil}, wantAttempts: 2},
		{name: "an error retriable does not report", errs: []error{apierrors.NewTooManyRequests("slow down", 0)}, wantErr: apierrors.NewTooManyRequests("slow down", 0), wantAttempts: 1},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			attempts := 0
			err := DoIf(t.Context(), backoff, apierrors.IsConflict, func() error {
				attempts++
				return tc.errs[attempts-1]
			})
			if (err == nil) != (tc.wantErr == nil) || (err != nil && err.Error() != tc.wantErr.Error()) {
				t.Errorf("DoIf returned %v, want %v", err, tc.wantErr)
			}
			if attempts != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", attempts, tc.wantAttempts)
			}
		})
	}
}
