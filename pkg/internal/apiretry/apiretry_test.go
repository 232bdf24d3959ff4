package apiretry

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
