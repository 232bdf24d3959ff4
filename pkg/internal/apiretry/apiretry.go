// Package apiretry holds the two small things every waiting and retrying
// part of the module shares: which API errors are worth retrying at once,
// and a sleep that ends with its context.
//
//	err := retry.OnError(retry.DefaultBackoff, apiretry.IsTransient, call)
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
