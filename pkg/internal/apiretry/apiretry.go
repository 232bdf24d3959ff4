// Package apiretry is the one retry policy of every request the module
// makes: which errors are worth repeating a request for (IsRetriable:
// throttling honouring Retry-After, 5xx answers, timeouts, refused or reset
// connections, EOF), a jittered capped exponential backoff bounded by the
// caller's context (Do, DefaultBackoff), and a client decorator that applies
// them to every request, watch establishment included (NewClient). Callers
// keep only the retries that carry meaning for them, such as a re-read after
// a conflict.
//
//	client = apiretry.NewClient(client, apiretry.DefaultBackoff)
//
// Limits: a write whose answer was lost is repeated, so a caller sees what
// the repeat gets (AlreadyExists, a conflict, NotFound), not the lost
// answer; an established watch that ends is not re-established here.
package apiretry

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// IsTransient reports API errors that may clear up by themselves:
// throttling, timeouts, server errors and an unavailable server.
func IsTransient(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}

// Sleep waits d, or until ctx is done, and returns ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
