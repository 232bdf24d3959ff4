//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
)

// apiserver is the control plane the package's tests share.
var apiserver struct {
	config  *rest.Config
	etcdURL *url.URL
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// client-go reports a watch ended by its context through klog; the
	// step's waits end theirs that way every time.
	klog.SetLogger(logr.Discard())
	// controller-runtime logs the apiserver's warnings (e.g. for a name the
	// conformance suite sends on purpose); without a logger it prints a
	// stack trace instead.
	ctrllog.SetLogger(logr.Discard())
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test-integration`, which installs kube-apiserver and etcd")
		return 1
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("testdata")},
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			MutatingWebhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{imageStreamWebhook()},
		},
	}
	env.ControlPlane.GetAPIServer().Configure().Set("watch-cache", "false")
	config, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start kube-apiserver and etcd: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "could not stop kube-apiserver and etcd: %v\n", err)
		}
	}()
	stopWebhook, err := serveWebhook(&env.WebhookInstallOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stopWebhook()
	apiserver.config = config
	apiserver.etcdURL = env.ControlPlane.Etcd.URL
	return m.Run()
}

// newClient is a client of the shared apiserver with the fake's scheme.
func newClient(t *testing.T) ctrlruntimeclient.WithWatch {
	t.Helper()
	client, err := ctrlruntimeclient.NewWithWatch(apiserver.config, ctrlruntimeclient.Options{Scheme: fakeopenshift.NewScheme()})
	if err != nil {
		t.Fatalf("could not create a client: %v", err)
	}
	return client
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T, client ctrlruntimeclient.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := client.Create(t.Context(), ns); err != nil {
		t.Fatalf("could not create a namespace: %v", err)
	}
	return ns.Name
}

// compactEtcd compacts etcd's history through etcd's JSON gateway, so that
// every resourceVersion written so far has expired.
func compactEtcd(t *testing.T) {
	t.Helper()
	var status struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	// Two writes to a key outside the apiserver's prefix move the revision
	// past the last resourceVersion, so that a watch from it has expired
	// too; each answers with the revision it wrote.
	for range 2 {
		etcdPost(t, "/v3/kv/put", map[string]any{"key": "Y29tcGFjdA==", "value": "eA=="}, &status)
	}
	if status.Header.Revision == "" {
		t.Fatal("etcd did not report its revision")
	}
	etcdPost(t, "/v3/kv/compaction", map[string]any{"revision": status.Header.Revision, "physical": true}, nil)
}

func etcdPost(t *testing.T, path string, body, into any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(apiserver.etcdURL.String()+path, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("etcd %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("etcd %s: %s", path, resp.Status)
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("etcd %s: %v", path, err)
		}
	}
}
