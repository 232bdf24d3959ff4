package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reason classifies a failed import the way the image API does in an
// ImageStreamImport status and in a tag's ImportSuccess=False condition.
type Reason string

const (
	// ReasonNotFound: the registry has no image for the pull spec.
	ReasonNotFound Reason = "NotFound"
	// ReasonUnauthorized: the registry refused the credentials.
	ReasonUnauthorized Reason = "Unauthorized"
	// ReasonInternalError: the registry or the transport failed.
	ReasonInternalError Reason = "InternalError"
)

// internalErrorDetail is what openshift-apiserver reports for a registry
// answering 500; injected InternalError faults use it.
const internalErrorDetail = "received unexpected HTTP status: 500 Internal Server Error"

// ImportError is a per-image import failure. Message is worded as the image
// API words it, so a fake import controller can copy Reason and Message into
// a status unchanged.
type ImportError struct {
	Reason  Reason
	Message string
}

func (e *ImportError) Error() string { return e.Message }

// ReasonOf returns the Reason of the ImportError in err's chain, or "" when
// err is not an import failure (nil, a context error, a malformed pull spec).
func ReasonOf(err error) Reason {
	var importErr *ImportError
	if errors.As(err, &importErr) {
		return importErr.Reason
	}
	return ""
}

func notFoundError(ref string) *ImportError {
	return &ImportError{
		Reason:  ReasonNotFound,
		Message: fmt.Sprintf("dockerimage.image.openshift.io %q not found", ref),
	}
}

func unauthorizedError(ref string) *ImportError {
	return &ImportError{
		Reason:  ReasonUnauthorized,
		Message: fmt.Sprintf("you may not have access to the container image %q", ref),
	}
}

func internalError(ref, detail string) *ImportError {
	return &ImportError{
		Reason:  ReasonInternalError,
		Message: fmt.Sprintf("Internal error occurred: %s: %s", ref, detail),
	}
}

// FaultRule makes Resolve misbehave for matching pull specs. All matching
// rules apply: their latencies add up, and the call fails if any rule says so
// (a permanent failure wins over a FailFirst one, the earliest rule first).
type FaultRule struct {
	// PullSpec is matched against the pull spec exactly as Resolve gets it;
	// a trailing "*" makes the rest a prefix ("*" alone matches everything).
	PullSpec string
	// Latency is slept, through the registry's sleep hook, before every
	// matching Resolve returns, failures included.
	Latency time.Duration
	// FailFirst makes the first FailFirst matching Resolve calls after the
	// rule is added fail with ReasonInternalError. The calls are counted per
	// pull spec, so a prefix rule fails the first calls for each image.
	FailFirst int
	// Permanent, when set, fails every matching Resolve with that reason.
	Permanent Reason
}

// fault is an installed FaultRule and the calls it has seen.
type fault struct {
	rule  FaultRule
	calls map[string]int // pull spec -> matching Resolve calls so far
}

func (f *fault) matches(pullSpec string) bool {
	if prefix, ok := strings.CutSuffix(f.rule.PullSpec, "*"); ok {
		return strings.HasPrefix(pullSpec, prefix)
	}
	return pullSpec == f.rule.PullSpec
}

// AddFault installs rule until the returned function is called; calling it
// more than once is harmless. It panics on an empty PullSpec, a negative
// Latency or FailFirst, or a Permanent reason it does not know, since those
// are mistakes in a test's setup.
func (r *Registry) AddFault(rule FaultRule) (remove func()) {
	switch {
	case rule.PullSpec == "":
		panic("registry: FaultRule.PullSpec is empty; use \"*\" to match every pull spec")
	case rule.Latency < 0 || rule.FailFirst < 0:
		panic(fmt.Sprintf("registry: FaultRule for %q has a negative Latency or FailFirst", rule.PullSpec))
	}
	switch rule.Permanent {
	case "", ReasonNotFound, ReasonUnauthorized, ReasonInternalError:
	default:
		panic(fmt.Sprintf("registry: FaultRule for %q has unknown Permanent reason %q", rule.PullSpec, rule.Permanent))
	}

	f := &fault{rule: rule, calls: map[string]int{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, installed := range r.faults {
			if installed == f {
				r.faults = append(r.faults[:i:i], r.faults[i+1:]...)
				return
			}
		}
	}
}

// applyFaultsLocked records a call for pullSpec with every matching rule and
// returns the total latency to add and the failure to report, if any. The
// caller holds r.mu.
func (r *Registry) applyFaultsLocked(pullSpec string) (time.Duration, *ImportError) {
	var (
		latency   time.Duration
		permanent *ImportError
		transient *ImportError
	)
	for _, f := range r.faults {
		if !f.matches(pullSpec) {
			continue
		}
		f.calls[pullSpec]++
		latency += f.rule.Latency
		if permanent == nil && f.rule.Permanent != "" {
			permanent = permanentError(f.rule.Permanent, pullSpec)
		}
		if transient == nil && f.calls[pullSpec] <= f.rule.FailFirst {
			transient = internalError(pullSpec, internalErrorDetail)
		}
	}
	if permanent != nil {
		return latency, permanent
	}
	return latency, transient
}

func permanentError(reason Reason, pullSpec string) *ImportError {
	switch reason {
	case ReasonNotFound:
		return notFoundError(pullSpec)
	case ReasonUnauthorized:
		return unauthorizedError(pullSpec)
	default:
		return internalError(pullSpec, internalErrorDetail)
	}
}
