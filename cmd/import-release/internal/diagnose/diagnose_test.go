package diagnose

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

const testNamespace = "ci-op-diagnose"

func TestMain(m *testing.M) {
	// client-go logs every watch a finished wait stops.
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// importRelease runs the step for release name from pullSpec, as one process.
func importRelease(t *testing.T, cluster *fakeopenshift.Cluster, name, pullSpec string) error {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace(testNamespace)
	step := release.ImportReleaseStep(release.Config{
		Name:         name,
		Source:       release.NewFixedSource(pullSpec),
		RetryDelay:   10 * time.Millisecond,
		StallTimeout: 20 * time.Second,
		Log:          logrus.NewEntry(log),
	}, cluster.Client("step"), jobSpec)
	return step.Run(t.Context())
}

func diagnoseCluster(t *testing.T, cluster *fakeopenshift.Cluster) *Diagnosis {
	t.Helper()
	d, err := Namespace(t.Context(), cluster.Client("diagnose"), testNamespace, Records{})
	if err != nil {
		t.Fatalf("could not diagnose: %v", err)
	}
	// Both outputs render whatever the state.
	var text bytes.Buffer
	d.PrintText(&text)
	if !strings.HasPrefix(text.String(), "Namespace "+testNamespace+": ") {
		t.Errorf("text output does not start with the namespace:\n%s", text.String())
	}
	if _, err := json.Marshal(d); err != nil {
		t.Errorf("the diagnosis does not marshal: %v", err)
	}
	return d
}

func newCluster(t *testing.T) *fakeopenshift.Cluster {
	cluster := fakeopenshift.New(t.Context())
	t.Cleanup(cluster.Stop)
	return cluster
}

func TestHealthyNamespace(t *testing.T) {
	cluster := newCluster(t)
	rel := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(10))
	if err := importRelease(t, cluster, "latest", rel.PullSpec); err != nil {
		t.Fatalf("import failed: %v", err)
	}
	d := diagnoseCluster(t, cluster)
	if d.NeedsAttention || len(d.Attention) > 0 || len(d.Leftovers) > 0 {
		t.Errorf("a healthy namespace needs attention: %v, leftovers %v", d.Attention, d.Leftovers)
	}
	if len(d.Releases) != 1 {
		t.Fatalf("%d releases, want 1", len(d.Releases))
	}
	r := d.Releases[0]
	if r.Name != "latest" || r.Stream != "stable" || !r.StreamFound || r.Payload.Phase != imagestreams.Imported || !strings.Contains(r.PayloadImage, "@sha256:") {
		t.Errorf("release = %+v, want latest imported into stable", r)
	}
	if diff := cmp.Diff(map[imagestreams.Phase]int{imagestreams.Imported: 10}, r.Counts); diff != "" {
		t.Errorf("tag counts (-want +got):\n%s", diff)
	}
	var roles []string
	for _, p := range r.Pods {
		if p.Phase != "Succeeded" {
			t.Errorf("pod %s is %s, want Succeeded", p.Name, p.Phase)
		}
		roles = append(roles, p.Role)
	}
	if len(roles) != 2 {
		t.Errorf("pods of roles %v, want a cli and an extract pod", roles)
	}
	if r.Retriggers != nil {
		t.Errorf("a re-trigger record without failures: %+v", r.Retriggers)
	}
}

func TestFailedNamespace(t *testing.T) {
	cluster := newCluster(t)
	rel := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(10))
	broken := rel.Tags[3]
	cluster.Registry().AddFault(registry.FaultRule{PullSpec: broken.PullSpec, Permanent: registry.ReasonUnauthorized})
	if err := importRelease(t, cluster, "latest", rel.PullSpec); err == nil {
		t.Fatal("the import of a payload with an image that cannot be imported succeeded")
	}
	d := diagnoseCluster(t, cluster)
	if !d.NeedsAttention || len(d.Attention) != 1 {
		t.Fatalf("attention = %v, want one line for the failed tag", d.Attention)
	}
	for _, want := range []string{"stable:" + broken.Name, broken.PullSpec, string(registry.ReasonUnauthorized), "for generation "} {
		if !strings.Contains(d.Attention[0], want) {
			t.Errorf("attention %q does not say %q", d.Attention[0], want)
		}
	}
	r := d.Releases[0]
	if r.Counts[imagestreams.Failed] != 1 || r.Counts[imagestreams.Imported] != 9 {
		t.Errorf("counts = %v, want 9 imported and 1 failed", r.Counts)
	}
	// Unauthorized is permanent: nothing re-triggered it, so there is no record.
	var want *Record
	if diff := cmp.Diff(want, r.Retriggers); diff != "" {
		t.Errorf("re-trigger record (-want +got):\n%s", diff)
	}
}

func TestLeftoverNamespace(t *testing.T) {
	cluster := newCluster(t)
	first := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(5))
	second := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-21-000000", registry.WithImages(5))
	for _, rel := range []*registry.Release{first, second} {
		if err := importRelease(t, cluster, "latest", rel.PullSpec); err != nil {
			t.Fatalf("import of %s failed: %v", rel.PullSpec, err)
		}
	}
	d := diagnoseCluster(t, cluster)
	var got []string
	for _, obj := range d.Leftovers {
		got = append(got, obj.Kind+"/"+obj.Name)
	}
	wantNames := []string{
		"Pod/" + release.ExtractName("latest", first.DigestPullSpec),
		"Pod/" + release.CLIPodName("latest", first.DigestPullSpec),
		"ConfigMap/" + release.ExtractName("latest", first.DigestPullSpec),
	}
	if diff := cmp.Diff(wantNames, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("leftovers (-want +got):\n%s", diff)
	}
	if !d.NeedsAttention || len(d.Attention) != len(wantNames) {
		t.Errorf("attention = %v, want a line per leftover", d.Attention)
	}
	// The second import does not trust the cli tag the first one left (its
	// provenance names the first payload), so it runs both of its own pods.
	if r := d.Releases[0]; r.PayloadImage != second.DigestPullSpec || len(r.Pods) != 4 {
		t.Errorf("release payload %s with %d pods, want %s with 4 (2 current, 2 left)", r.PayloadImage, len(r.Pods), second.DigestPullSpec)
	}
}

// TestJudge checks what needs a person: a failed import nobody is
// re-triggering and a failed pod do; a failed import with an open claim and
// a pending one do not.
func TestJudge(t *testing.T) {
	failed := TagStatus{Tag: "etcd", Phase: imagestreams.Failed, Generation: 3, Source: "quay.io/o/etcd@sha256:1", Reason: "Unauthorized"}
	testCases := []struct {
		name    string
		release Release
		want    int
	}{
		{name: "failed, no claim", release: Release{Name: "latest", Tags: []TagStatus{failed}}, want: 1},
		{name: "failed, claim finished", release: Release{Name: "latest", Tags: []TagStatus{failed}, Retriggers: &Record{Tags: []RecordTag{{Tag: "etcd", Attempts: 2}}}}, want: 1},
		{name: "failed, open claim", release: Release{Name: "latest", Tags: []TagStatus{failed}, Retriggers: &Record{Tags: []RecordTag{{Tag: "etcd", Attempts: 1, Open: true}}}}, want: 0},
		{name: "pending", release: Release{Name: "latest", Tags: []TagStatus{{Tag: "etcd", Phase: imagestreams.Pending}}}, want: 0},
		{name: "failed payload", release: Release{Name: "latest", Payload: TagStatus{Tag: "latest", Phase: imagestreams.Failed}}, want: 1},
		{name: "failed pod", release: Release{Name: "latest", Pods: []Object{{Kind: "Pod", Name: "p", Phase: "Failed"}}}, want: 1},
		{name: "running pod", release: Release{Name: "latest", Pods: []Object{{Kind: "Pod", Name: "p", Phase: "Running"}}}, want: 0},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Diagnosis{Releases: []Release{tc.release}}
			d.judge()
			if len(d.Attention) != tc.want || d.NeedsAttention != (tc.want > 0) {
				t.Errorf("attention = %v (needs attention %v), want %d lines", d.Attention, d.NeedsAttention, tc.want)
			}
		})
	}
}

// TestEarlierRecord reads the re-trigger record earlier versions of the step
// kept on the stream, where there is no Lease.
func TestEarlierRecord(t *testing.T) {
	cluster := newCluster(t)
	stream := &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{
		Namespace: testNamespace, Name: "stable",
		Annotations: map[string]string{imagestreams.RetriggerAnnotation: `{"etcd":{"from":"quay.io/o/etcd@sha256:1","claimed":1,"done":false}}`},
	}}
	if err := cluster.Client("old-step").Create(t.Context(), stream); err != nil {
		t.Fatal(err)
	}
	got, err := Records{}.Read(t.Context(), cluster.Client("diagnose"), stream)
	if err != nil {
		t.Fatal(err)
	}
	want := &Record{Tags: []RecordTag{{Tag: "etcd", From: "quay.io/o/etcd@sha256:1", Attempts: 1, Open: true}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}
