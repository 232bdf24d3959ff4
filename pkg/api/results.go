package api

import "errors"

// ReasonedError is a step failure tagged with a machine-readable reason, as
// ci-operator's results package tags them for its metrics (for the import
// step: "importing_release").
type ReasonedError struct {
	Reason string
	Err    error
}

func (e *ReasonedError) Error() string { return e.Err.Error() }

func (e *ReasonedError) Unwrap() error { return e.Err }

// ForReason tags err with reason; a nil err stays nil.
func ForReason(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &ReasonedError{Reason: reason, Err: err}
}

// ReasonFor returns the reason err was tagged with, or "".
func ReasonFor(err error) string {
	var r *ReasonedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}
