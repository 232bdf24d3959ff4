package release

import (
	"strings"
	"testing"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

func TestImportOneProcess(t *testing.T) {
	env := newTestEnv(t, 190, "latest")
	step := env.step("shard-0", "latest")
	if err := step.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	rel := env.releases["latest"]
	client := env.cluster.Client("checker")
	stable := &imagev1.ImageStream{}
	if err := client.Get(t.Context(), ctrlruntimeclient.ObjectKey{Namespace: testNamespace, Name: "stable"}, stable); err != nil {
		t.Fatal(err)
	}
	if !stable.Spec.LookupPolicy.Local {
		t.Error("stable has lookupPolicy.local=false")
	}
	if got, want := len(stable.Spec.Tags), len(rel.Tags); got != want {
		t.Errorf("stable has %d tags, want %d", got, want)
	}
	for _, tag := range rel.Tags {
		var spec *imagev1.TagReference
		for i := range stable.Spec.Tags {
			if stable.Spec.Tags[i].Name == tag.Name {
				spec = &stable.Spec.Tags[i]
			}
		}
		if spec == nil || !imagestreams.IsCanonical(*spec, tag.PullSpec, imagev1.SourceTagReferencePolicy) {
			t.Errorf("tag %s is not canonical: %+v", tag.Name, spec)
		}
		if st := imagestreams.StateOf(stable, tag.Name); st.Phase != imagestreams.Imported {
			t.Errorf("tag %s is %s", tag.Name, st.Phase)
		}
	}
	if got := stable.Annotations[api.ReleaseConfigAnnotation]; got != `{"name":"4.18.0-0"}` {
		t.Errorf("release config annotation = %q", got)
	}
	value, err := step.Provides()[api.ReleaseImageEnv("latest")]()
	if err != nil {
		t.Fatal(err)
	}
	if s := value.(string); !strings.HasPrefix(s, "registry.fake-cluster.test/"+testNamespace+"/release@sha256:") {
		t.Errorf("RELEASE_IMAGE_LATEST = %q", s)
	}
	orig, err := step.Provides()[api.OriginalReleaseImageEnv("latest")]()
	if err != nil || orig != rel.PullSpec {
		t.Errorf("ORIGINAL_RELEASE_IMAGE_LATEST = %v, %v", orig, err)
	}
	t.Log(env.cluster.Stats().Report())
}

// TestProvidesReadsTheReleaseStream: a step object that did not run (its
// process found the work done, or ci-operator asks later) still provides
// RELEASE_IMAGE_<NAME>, from the release stream.
func TestProvidesReadsTheReleaseStream(t *testing.T) {
	env := newTestEnv(t, 10, "latest")
	idle := env.step("shard-1", "latest")
	if _, err := idle.Provides()[api.ReleaseImageEnv("latest")](); err == nil {
		t.Fatal("RELEASE_IMAGE_LATEST was provided before anything was imported")
	}
	ran := env.step("shard-0", "latest")
	if err := ran.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want, err := ran.Provides()[api.ReleaseImageEnv("latest")]()
	if err != nil {
		t.Fatal(err)
	}
	got, err := idle.Provides()[api.ReleaseImageEnv("latest")]()
	if err != nil || got != want {
		t.Errorf("the idle step provides %v, %v; want %v", got, err, want)
	}
}

// TestDefaultsAreAsPatientAsTheOldStep: where nothing has failed, the step
// waits for imports at least as long as the step it replaces (45 minutes for
// a payload's tags), and a transient import failure gets at least the old
// step's 6 re-imports; a pod that does not change phase fails sooner.
func TestDefaultsAreAsPatientAsTheOldStep(t *testing.T) {
	step := ImportReleaseStep(Config{Name: "latest"}, nil, nil).(*importReleaseStep)
	if got, want := step.config.ImportStallTimeout, 45*time.Minute; got < want {
		t.Errorf("ImportStallTimeout = %s, want at least %s", got, want)
	}
	if got, want := step.config.StallTimeout, 10*time.Minute; got != want {
		t.Errorf("StallTimeout = %s, want %s", got, want)
	}
	if got, want := step.config.ImportRetries, 6; got < want {
		t.Errorf("ImportRetries = %d, want at least %d", got, want)
	}
	// The re-triggers wait RetryDelay, then twice that, and so on (less
	// jitter's share at most): the chain lasts at least the old step's ~31 s.
	chain := time.Duration(0)
	for i := range step.config.ImportRetries {
		chain += step.config.RetryDelay << i
	}
	if chain < 30*time.Second {
		t.Errorf("a chain of %d re-triggers from %s lasts %s, want at least 30s", step.config.ImportRetries, step.config.RetryDelay, chain)
	}
}
