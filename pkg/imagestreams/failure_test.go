package imagestreams

import (
	"testing"
)

func TestClassifyFailure(t *testing.T) {
	const ref = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:42900ff0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
	testCases := []struct {
		name, reason, message string
		want                  FailureClass
	}{
		{name: "not found", reason: "NotFound", message: `dockerimage.image.openshift.io "` + ref + `" not found`, want: Permanent},
		{name: "unauthorized", reason: "Unauthorized", message: `you may not have access to the container image "` + ref + `"`, want: Permanent},
		{name: "unauthorized without credentials", reason: "Unauthorized", message: `you may not have access to the container image "` + ref + `" and did not have credentials to the repository`, want: Permanent},
		{name: "blocked registry", reason: "Forbidden", message: "forbidden: registry quay.io blocked", want: Permanent},
		{name: "v1 registry", reason: "NotV2Registry", message: `registry "old.example.com" does not support the v2 Registry API`, want: Permanent},
		{name: "http only", reason: "BadRequest", message: "the repository quay.io/a/b is HTTP only and requires the insecure flag to import", want: Permanent},
		{name: "bad name", reason: "Invalid", message: `from.name: Invalid value: "UPPER": invalid name`, want: Permanent},
		{name: "throttled status", reason: "TooManyRequests", message: "too many requests", want: Transient},
		{name: "timeout status", reason: "Timeout", message: "the server was unable to return a response in the time allotted", want: Transient},
		{name: "server timeout status", reason: "ServerTimeout", message: "the server cannot complete the requested operation at this time", want: Transient},
		{name: "unavailable status", reason: "ServiceUnavailable", message: "the server is currently unable to handle the request", want: Transient},
		{name: "manifest unknown inside internal error", reason: "InternalError", message: "Internal error occurred: " + ref + ": manifest unknown: manifest unknown", want: Permanent},
		{name: "name unknown inside internal error", reason: "InternalError", message: "Internal error occurred: " + ref + ": name unknown: repository name not known to registry", want: Permanent},
		{name: "denied inside internal error", reason: "InternalError", message: "Internal error occurred: " + ref + ": denied: requested access to the resource is denied", want: Permanent},
		{name: "unsupported manifest", reason: "InternalError", message: "Internal error occurred: unsupported image manifest type: *ocischema.DeserializedImageIndex", want: Permanent},
		{name: "empty manifest list", reason: "InternalError", message: "Internal error occurred: no manifests in manifest list", want: Permanent},
		{name: "unparsable reference", reason: "InternalError", message: "Internal error occurred: unable to parse docker reference quay.io/a/b:: invalid reference format", want: Permanent},
		{name: "registry throttling", reason: "InternalError", message: "Internal error occurred: " + ref + ": toomanyrequests: You have reached your pull rate limit", want: Transient},
		{name: "registry 429", reason: "InternalError", message: "Internal error occurred: " + ref + ": received unexpected HTTP status: 429 Too Many Requests", want: Transient},
		{name: "registry 500", reason: "InternalError", message: "Internal error occurred: " + ref + ": received unexpected HTTP status: 500 Internal Server Error", want: Transient},
		{name: "registry 502", reason: "InternalError", message: "Internal error occurred: " + ref + ": unexpected status code 502 Bad Gateway", want: Transient},
		{name: "registry 503", reason: "InternalError", message: "Internal error occurred: " + ref + ": received unexpected HTTP status: 503 Service Unavailable", want: Transient},
		{name: "registry 504", reason: "InternalError", message: "Internal error occurred: " + ref + ": unexpected status code 504 Gateway Timeout", want: Transient},
		{name: "i/o timeout", reason: "InternalError", message: "Internal error occurred: " + ref + ": Get \"https://quay.io/v2/\": dial tcp 1.2.3.4:443: i/o timeout", want: Transient},
		{name: "connection refused", reason: "InternalError", message: "Internal error occurred: " + ref + ": Get \"https://quay.io/v2/\": dial tcp 1.2.3.4:443: connect: connection refused", want: Transient},
		{name: "connection reset", reason: "InternalError", message: "Internal error occurred: " + ref + ": read tcp 10.0.0.1:5000->1.2.3.4:443: read: connection reset by peer", want: Transient},
		{name: "unexpected eof", reason: "InternalError", message: "Internal error occurred: " + ref + ": unexpected EOF", want: Transient},
		{name: "dns", reason: "InternalError", message: "Internal error occurred: " + ref + ": dial tcp: lookup quay.io: no such host", want: Transient},
		{name: "tls handshake", reason: "InternalError", message: "Internal error occurred: " + ref + ": net/http: TLS handshake timeout", want: Transient},
		{name: "fake registry detail", reason: "InternalError", message: "Internal error occurred: " + ref + ": registry unavailable", want: Transient},
		{name: "unknown internal error", reason: "InternalError", message: "Internal error occurred: " + ref + ": something odd", want: Transient},
		{name: "empty reason, default message", reason: "", message: "unknown error prevented import", want: Transient},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyFailure(tc.reason, tc.message); got != tc.want {
				t.Errorf("ClassifyFailure(%q, %q) = %s, want %s", tc.reason, tc.message, got, tc.want)
			}
			st := TagState{Phase: Failed, Reason: tc.reason, Message: tc.message}
			if got := st.Class(); got != tc.want {
				t.Errorf("TagState.Class() = %s, want %s", got, tc.want)
			}
		})
	}
}
