//go:build integration

package integration

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"

	imagev1 "github.com/openshift/api/image/v1"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// imageStreamWebhookPath is where the webhook server answers.
const imageStreamWebhookPath = "stamp-imagestreams"

// imageStreamWebhook is the mutating admission webhook that makes the
// ImageStream custom resource stamp generations as openshift-apiserver's
// ImageStream strategy does, with the functions the fake's store uses
// (fakeopenshift.StampImageStreamCreate and StampImageStreamUpdate). It
// sees every create and every write through the main resource (update,
// patch, server-side apply, after the apply is merged), not writes through
// the status subresource, as the strategy does. Its failure policy is Fail:
// an ImageStream written without it would not be stamped.
func imageStreamWebhook() *admissionregistrationv1.MutatingWebhookConfiguration {
	path := imageStreamWebhookPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "imagestreams.image.openshift.io"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "stamp.imagestreams.image.openshift.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Path: &path}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{imagev1.GroupName}, APIVersions: []string{"v1"}, Resources: []string{"imagestreams"},
				},
			}},
		}},
	}
}

// serveWebhook serves the webhook where envtest told the apiserver to find
// it, with the certificate envtest made; the returned function stops it.
func serveWebhook(o *envtest.WebhookInstallOptions) (stop func(), err error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(o.LocalServingCertDir, "tls.crt"), filepath.Join(o.LocalServingCertDir, "tls.key"))
	if err != nil {
		return nil, fmt.Errorf("could not load the webhook's certificate: %w", err)
	}
	addr := net.JoinHostPort(o.LocalServingHost, strconv.Itoa(o.LocalServingPort))
	listener, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("could not listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/"+imageStreamWebhookPath, serveAdmissionReview)
	server := &http.Server{Handler: mux}
	go func() { _ = server.Serve(listener) }()
	return func() { _ = server.Close() }, nil
}

func serveAdmissionReview(w http.ResponseWriter, r *http.Request) {
	review := &admissionv1.AdmissionReview{}
	if err := json.NewDecoder(r.Body).Decode(review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	response, err := stampImageStream(review.Request)
	if err != nil {
		response = &admissionv1.AdmissionResponse{Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Message: err.Error()}}
	}
	response.UID = review.Request.UID
	review.Response = response
	review.Request = nil
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

// stampImageStream answers one admission request with a JSON patch that
// replaces the stream's spec by the stamped one. metadata.generation is the
// custom resource's own (+1 on any change of the spec), which agrees with
// the strategy's because the spec is stored in one canonical form, the one
// the webhook writes.
func stampImageStream(req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, error) {
	is := &imagev1.ImageStream{}
	if err := json.Unmarshal(req.Object.Raw, is); err != nil {
		return nil, fmt.Errorf("could not decode the image stream: %w", err)
	}
	switch req.Operation {
	case admissionv1.Create:
		fakeopenshift.StampImageStreamCreate(is)
	case admissionv1.Update:
		old := &imagev1.ImageStream{}
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return nil, fmt.Errorf("could not decode the stored image stream: %w", err)
		}
		fakeopenshift.StampImageStreamUpdate(is, old)
	default:
		return nil, errors.New("unexpected operation " + string(req.Operation))
	}
	for i := range is.Spec.Tags {
		if len(is.Spec.Tags[i].Annotations) == 0 {
			is.Spec.Tags[i].Annotations = nil // one form for "none"
		}
	}
	spec, err := json.Marshal(is.Spec)
	if err != nil {
		return nil, err
	}
	patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/spec", "value": json.RawMessage(spec)}})
	if err != nil {
		return nil, err
	}
	patchType := admissionv1.PatchTypeJSONPatch
	return &admissionv1.AdmissionResponse{Allowed: true, Patch: patch, PatchType: &patchType}, nil
}
