package test

import (
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// resources maps the fake's kinds to RBAC resources.
var resources = map[string]string{
	"ImageStream":       "image.openshift.io/imagestreams",
	"ImageStreamImport": "image.openshift.io/imagestreamimports",
	"ImageStreamTag":    "image.openshift.io/imagestreamtags",
	"Pod":               "/pods",
	"ConfigMap":         "/configmaps",
	"Secret":            "/secrets",
	"ServiceAccount":    "/serviceaccounts",
	"Role":              "rbac.authorization.k8s.io/roles",
	"RoleBinding":       "rbac.authorization.k8s.io/rolebindings",
	"Lease":             "coordination.k8s.io/leases",
}

// rbacVerbs maps the fake's verbs to the RBAC verbs they need: an apply is a
// PATCH, and the apiserver also authorizes it as a create, since it creates
// the object when it is missing.
func rbacVerbs(verb string) []string {
	if verb == "apply" {
		return []string{"patch", "create"}
	}
	return []string{verb}
}

// TestRoleAllowsExactlyWhatTheStepDoes runs the step (with a failing pod, so
// that the replacement path runs too, and an image that cannot be imported,
// so that re-triggers run) and compares the requests it made with
// deploy/rbac.yaml.
func TestRoleAllowsExactlyWhatTheStepDoes(t *testing.T) {
	data, err := os.ReadFile("../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.Role
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, rule := range role.Rules {
		for _, group := range rule.APIGroups {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					allowed[group+"/"+resource+" "+verb] = true
				}
			}
		}
	}

	cluster := fakeopenshift.New(t.Context())
	defer cluster.Stop()
	rel := cluster.Registry().AddRelease("4.18.0-0.nightly-2026-11-20-000000", registry.WithImages(20))
	cluster.InjectPodFault(fakeopenshift.PodFault{NamePrefix: "release-images-latest-cli", Action: fakeopenshift.PodFail, Times: 1})
	// A component whose registry keeps failing (a transient reason that does
	// not clear) makes the step re-trigger its import and then fail, after
	// every other request was made.
	cluster.Registry().AddFault(registry.FaultRule{PullSpec: rel.Tags[3].PullSpec, Permanent: registry.ReasonInternalError})
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	jobSpec := &api.JobSpec{}
	jobSpec.SetNamespace("ci-op-rbac")
	step := release.ImportReleaseStep(release.Config{
		Name: "latest", Source: release.NewFixedSource(rel.PullSpec),
		RetryDelay: 10 * time.Millisecond, StallTimeout: 20 * time.Second, Log: logrus.NewEntry(logger),
	}, cluster.Client("step"), jobSpec)
	if err := step.Run(t.Context()); err == nil || !strings.Contains(err.Error(), rel.Tags[3].Name) {
		t.Fatalf("Run did not fail on the broken image: %v", err)
	}

	used := map[string]bool{}
	for key := range cluster.Stats().Requests {
		if key.Process != "step" {
			continue
		}
		resource, ok := resources[key.Kind]
		if !ok {
			t.Fatalf("the step used kind %s, which the test does not know", key.Kind)
		}
		for _, verb := range rbacVerbs(key.Verb) {
			used[resource+" "+verb] = true
		}
	}
	var missing, unused []string
	for k := range used {
		if !allowed[k] {
			missing = append(missing, k)
		}
	}
	for k := range allowed {
		if !used[k] && !neededForGrant(k) {
			unused = append(unused, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("deploy/rbac.yaml does not allow requests the step makes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), unused); diff != "" {
		t.Errorf("deploy/rbac.yaml allows what the step never does (-want +got):\n%s", diff)
	}
	// The apiserver lets the step create the Role only if it holds every
	// permission the Role grants.
	var ungrantable []string
	for k := range granted() {
		if !allowed[k] {
			ungrantable = append(ungrantable, k)
		}
	}
	sort.Strings(ungrantable)
	if diff := cmp.Diff([]string(nil), ungrantable); diff != "" {
		t.Errorf("deploy/rbac.yaml lacks what the step grants to ci-operator's account (-want +got):\n%s", diff)
	}
	if role.Kind != "Role" || strings.Contains(string(data), "ClusterRole") {
		t.Error("the RBAC must be a namespaced Role")
	}
}

// neededForGrant lists permissions the step holds only so that it may grant
// them in ci-operator's Role for the extract pod's service account, and
// those only a process that waits for another's claim uses (one process
// alone never does).
func neededForGrant(permission string) bool {
	return granted()[permission] || permission == "coordination.k8s.io/leases watch"
}

// granted expands the rules of the Role the step creates.
func granted() map[string]bool {
	out := map[string]bool{}
	for _, rule := range release.ImageRoleRules() {
		for _, group := range rule.APIGroups {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					out[group+"/"+resource+" "+verb] = true
				}
			}
		}
	}
	return out
}
