package apiretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
)

// DefaultBackoff is the retry policy of every request the module makes:
// 12 attempts, the n-th retry after 25ms·2ⁿ⁻¹ (at most 5s) plus up to 50%
// jitter so that processes that failed together do not retry together —
// 20 to 30s of retrying in all, longer when the server asks for it with
// Retry-After. Steps is the number of attempts.
var DefaultBackoff = wait.Backoff{Duration: 25 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 12, Cap: 5 * time.Second}

// IsRetriable reports errors of a request that a repeat of the same request
// may not get: everything IsTransient reports, any other 5xx answer, and a
// transport failure (connection refused or reset, EOF, a network timeout).
// A conflict is not retriable here: it tells the caller something about the
// object, and only the caller knows what to do about it. Neither is the end
// of the caller's context.
func IsRetriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if IsTransient(err) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Code >= 500
	}
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || utilnet.IsTimeout(err)
}

// Do calls fn until it returns nil or an error IsRetriable does not report,
// at most backoff.Steps times, waiting between attempts as backoff says or
// as long as the server's Retry-After asks, whichever is longer. It gives up
// when ctx ends, returning the last error with the context's.
func Do(ctx context.Context, backoff wait.Backoff, fn func() error) error {
	return DoIf(ctx, backoff, IsRetriable, fn)
}

// DoIf is Do for the errors retriable reports, e.g. the conflicts that make
// a caller read again and decide anew. Unlike client-go's retry.OnError it
// never answers an error of fn with nil: an attempt that fails because ctx
// ended returns that error.
func DoIf(ctx context.Context, backoff wait.Backoff, retriable func(error) bool, fn func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = fn(); err == nil || !retriable(err) || attempt+1 >= max(backoff.Steps, 1) {
			return err
		}
		if sleepErr := Sleep(ctx, Delay(backoff, attempt, err)); sleepErr != nil {
			return fmt.Errorf("%w (stopped retrying: %w)", err, sleepErr)
		}
	}
}

// Delay is how long to wait after the failed attempt number attempt
// (counted from 0): backoff's Duration·Factorᵃᵗᵗᵉᵐᵖᵗ, at most Cap, plus up
// to Jitter times that, or the server's Retry-After when that is longer.
func Delay(backoff wait.Backoff, attempt int, err error) time.Duration {
	d := float64(backoff.Duration) * math.Pow(max(backoff.Factor, 1), float64(attempt))
	if backoff.Cap > 0 {
		d = min(d, float64(backoff.Cap))
	}
	delay := time.Duration(d)
	if backoff.Jitter > 0 {
		delay = wait.Jitter(delay, backoff.Jitter)
	}
	if seconds, ok := apierrors.SuggestsClientDelay(err); ok && time.Duration(seconds)*time.Second > delay {
		delay = time.Duration(seconds) * time.Second
	}
	return delay
}
