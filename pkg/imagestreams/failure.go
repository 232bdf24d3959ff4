package imagestreams

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FailureClass says whether a failed import is worth trying again.
type FailureClass string

const (
	// Transient: the registry or the path to it failed in a way that may
	// clear up by itself (throttling, a server error, a timeout, a dropped
	// connection). Re-triggering the import with backoff may succeed.
	Transient FailureClass = "Transient"
	// Permanent: the registry answered, and the answer will not change by
	// asking again (no such image, no access, a malformed reference or
	// manifest, a blocked registry). The step fails at once.
	Permanent FailureClass = "Permanent"
)

// ClassifyFailure says whether an import that failed with the given
// ImportSuccess=False condition reason and message is transient or permanent.
//
// Where the reasons come from. openshift-apiserver's importer
// (pkg/image/apiserver/importer/importer.go) turns each registry error into
// a metav1.Status; registry/imagestreamimport/rest.go's setFailureCondition
// copies its Reason and Message into the tag's condition (an empty message
// becomes "unknown error prevented import"):
//
//	reason           made by                                         class
//	NotFound         registry NAME_UNKNOWN or MANIFEST_UNKNOWN:       permanent
//	                 `dockerimage.image.openshift.io "<ref>" not found`
//	Unauthorized     registry UNAUTHORIZED, "no basic auth            permanent
//	                 credentials", "incorrect username or password":
//	                 `you may not have access to the container image "<ref>"`
//	Forbidden        registry blocked by the cluster's image policy   permanent
//	                 ("registry <r> blocked"); a v1-only registry
//	NotV2Registry    the same, with the reason overwritten            permanent
//	BadRequest       an HTTP-only registry without the insecure flag  permanent
//	Invalid          a pull spec that does not parse                  permanent
//	TooManyRequests, a registry error that was already an API status  transient
//	Timeout,         (kept as it is by imageImportStatus)
//	ServerTimeout,
//	ServiceUnavailable
//	InternalError    every other error, wrapped by imageImportStatus:  by message
//	                 `Internal error occurred: <ref>: <registry error>`
//
// An InternalError (or an unknown reason) is the importer's catch-all, so its
// message decides: HTTP 429 and 5xx status texts, "toomanyrequests",
// timeouts, refused or reset connections, EOF, failed name lookups and TLS
// handshakes are transient (the transport failed; the next attempt may not);
// a MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED or DENIED registry error
// code, an unparsable reference or an unsupported manifest is permanent
// (the registry gave its answer). A message that matches neither is
// transient: the re-trigger budget bounds what a wrong guess costs, while a
// wrong "permanent" fails a run that would have succeeded, and the step
// this replaces re-imported every failure alike.
func ClassifyFailure(reason, message string) FailureClass {
	switch metav1.StatusReason(reason) {
	case metav1.StatusReasonNotFound, metav1.StatusReasonUnauthorized, metav1.StatusReasonForbidden,
		metav1.StatusReasonBadRequest, metav1.StatusReasonInvalid, "NotV2Registry":
		return Permanent
	case metav1.StatusReasonTooManyRequests, metav1.StatusReasonTimeout, metav1.StatusReasonServerTimeout,
		metav1.StatusReasonServiceUnavailable:
		return Transient
	}
	m := strings.ToLower(message)
	if containsAny(m, transientMarkers) {
		return Transient
	}
	if containsAny(m, permanentMarkers) {
		return Permanent
	}
	return Transient
}

// Class classifies the failure of a Failed tag; see ClassifyFailure.
func (s TagState) Class() FailureClass { return ClassifyFailure(s.Reason, s.Message) }

// transientMarkers are lower-case fragments of registry and transport
// errors that may clear up by themselves, as Go's net/http, crypto/tls, net
// and the distribution client word them.
var transientMarkers = []string{
	"toomanyrequests", "too many requests", "status code 429", "http status: 429",
	"500 internal server error", "502 bad gateway", "503 service unavailable", "504 gateway timeout",
	"status code 500", "status code 502", "status code 503", "status code 504",
	"http status: 500", "http status: 502", "http status: 503", "http status: 504",
	"timeout", "timed out", "deadline exceeded",
	"connection refused", "connection reset", "broken pipe", "eof",
	"no such host", "temporary failure in name resolution", "server misbehaving",
	"tls handshake", "unavailable",
}

// permanentMarkers are lower-case fragments of registry answers that will
// not change on a retry: the distribution API's error codes and the
// importer's own parse errors.
var permanentMarkers = []string{
	"manifest unknown", "name unknown", "not found", "unauthorized", "denied",
	"incorrect username or password", "no basic auth credentials",
	"unable to parse", "invalid reference format", "unsupported image manifest type",
	"no manifests in manifest list", "requires the insecure flag", "blocked",
}

func containsAny(s string, fragments []string) bool {
	for _, f := range fragments {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}
