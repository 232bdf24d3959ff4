package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// The tests run the command as a separate process: the test binary runs
// main() when this variable is set.
const runMainEnv = "IMPORT_RELEASE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runCommand(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("could not run the command: %v", err)
	}
	return out.String(), errOut.String(), code
}

func TestEmbeddedImport(t *testing.T) {
	testCases := []struct {
		name     string
		args     []string
		releases []string
		images   int
		shards   int
	}{
		{name: "defaults: latest, one shard, 190 images", releases: []string{"latest"}, images: 190, shards: 1},
		{name: "initial and latest, 4 shards", args: []string{"--name=initial,latest", "--shards=4", "--images=40"}, releases: []string{"initial", "latest"}, images: 40, shards: 4},
		{name: "initial and latest, 16 shards", args: []string{"--name", "initial", "--name", "latest", "--shards=16", "--images=40"}, releases: []string{"initial", "latest"}, images: 40, shards: 16},
		{name: "chosen payload version", args: []string{"--from=registry.fake.openshift.test/ocp/release:4.20.1", "--images=20", "--shards=2"}, releases: []string{"latest"}, images: 20, shards: 2},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCommand(t, append(tc.args, "--output=json")...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			var rep command.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
			}
			if !rep.OK || len(rep.Failures) > 0 {
				t.Errorf("report not ok: %v", rep.Failures)
			}
			if len(rep.ShardRuns) != tc.shards {
				t.Errorf("%d shard results, want %d", len(rep.ShardRuns), tc.shards)
			}
			for _, s := range rep.ShardRuns {
				if !s.OK {
					t.Errorf("shard %s failed: %s", s.Shard, s.Error)
				}
			}
			if len(rep.Releases) != len(tc.releases) {
				t.Fatalf("%d releases in the report, want %d", len(rep.Releases), len(tc.releases))
			}
			for i, rr := range rep.Releases {
				if rr.Name != tc.releases[i] || rr.Images != tc.images {
					t.Errorf("release %d = %s with %d images, want %s with %d", i, rr.Name, rr.Images, tc.releases[i], tc.images)
				}
				// Every image and the payload itself imported once; a CLI
				// pod and an extract pod.
				if rr.Imports != tc.images+1 || rr.PodsCreated != 2 {
					t.Errorf("release %s: %d imports and %d pods, want %d and 2", rr.Name, rr.Imports, rr.PodsCreated, tc.images+1)
				}
				if !strings.Contains(rr.ReleaseImage, "/release@sha256:") {
					t.Errorf("release %s: release image %q is not the release stream by digest", rr.Name, rr.ReleaseImage)
				}
			}
			wantInvariants := 2
			if tc.shards > 1 {
				// Writes, mutating requests and merges against the baseline.
				wantInvariants = 5
				if rep.BaselineWrites == nil || *rep.BaselineWrites == 0 {
					t.Error("no baseline writes reported")
				}
			}
			if len(rep.Invariants) != wantInvariants {
				t.Errorf("%d invariants checked, want %d: %+v", len(rep.Invariants), wantInvariants, rep.Invariants)
			}
			for _, inv := range rep.Invariants {
				if !inv.OK {
					t.Errorf("invariant %q does not hold: %s", inv.Name, inv.Detail)
				}
			}
		})
	}
}

func TestTextSummary(t *testing.T) {
	stdout, stderr, code := runCommand(t, "--name=initial,latest", "--shards=3", "--images=10")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"RELEASE", "initial", "latest", "3 of 3 shards succeeded", "ok   each image imported once", "ok   writes of N shards equal one shard's"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"[release:latest] 10/10 images imported", "created pod release-images-initial-cli-", "[release:initial] done: 10 images imported"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: not-a-valid-token
contexts:
- name: c
  context:
    cluster: c
    user: u
    namespace: ci-op-from-context
current-context: c
`, server)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBadInput(t *testing.T) {
	// A server that refuses every credential, and one that always says 403.
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	}))
	defer unauthorized.Close()
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"imagestreams.image.openshift.io is forbidden","reason":"Forbidden","code":403}`))
	}))
	defer forbidden.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	testCases := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{name: "malformed --from", args: []string{"--from=not a pull spec"}, wantCode: 2, want: `error: --from latest: invalid pull spec "not a pull spec"`},
		{name: "upper-case --from", args: []string{"--from=quay.io/OCP/release:4.18"}, wantCode: 2, want: "upper-case"},
		{name: "--from for an unknown release", args: []string{"--name=latest", "--from=initial=quay.io/ocp/release:4.18"}, wantCode: 2, want: `"initial" is not one of the releases given with --name`},
		{name: "--from without a name among several", args: []string{"--name=initial,latest", "--from=quay.io/ocp/release:4.18"}, wantCode: 2, want: "give NAME=PULLSPEC"},
		{name: "--from outside the embedded registry", args: []string{"--from=quay.io/ocp/release:4.18"}, wantCode: 2, want: "the embedded cluster serves generated payloads only"},
		{name: "unknown --output", args: []string{"--output=yaml"}, wantCode: 2, want: `error: --output "yaml": want text or json`},
		{name: "unknown --reference-policy", args: []string{"--reference-policy=Remote"}, wantCode: 2, want: "want Source or Local"},
		{name: "unknown --log-level", args: []string{"--log-level=loud"}, wantCode: 2, want: "--log-level"},
		{name: "bad --shards", args: []string{"--shards=0"}, wantCode: 2, want: "--shards 0: want 1 to 256"},
		{name: "zero --import-stall-timeout", args: []string{"--import-stall-timeout=0s"}, wantCode: 2, want: "--import-stall-timeout must be positive"},
		{name: "bad release name", args: []string{"--name=Latest"}, wantCode: 2, want: "a release name is lower-case"},
		{name: "unknown flag", args: []string{"--frm=x"}, wantCode: 2, want: "flag provided but not defined: -frm"},
		{name: "shards with a real cluster", args: []string{"--kubeconfig=/dev/null", "--namespace=ci-op-x", "--from=quay.io/ocp/release:4.18", "--shards=4"}, wantCode: 2, want: "--shards works with the embedded cluster only"},
		{name: "in-cluster without namespace", args: []string{"--in-cluster", "--from=quay.io/ocp/release:4.18"}, wantCode: 2, want: "--namespace is required with --in-cluster"},
		{name: "real cluster without namespace", args: []string{"--kubeconfig=/dev/null", "--from=quay.io/ocp/release:4.18"}, wantCode: 2, want: "--namespace is required: the current context of /dev/null names no namespace"},
		{name: "real cluster without --from", args: []string{"--kubeconfig=/dev/null", "--namespace=ci-op-x"}, wantCode: 2, want: "--from is required with a real cluster; missing for latest"},
		{name: "missing kubeconfig", args: []string{"--kubeconfig=/nonexistent/kubeconfig", "--namespace=ci-op-x", "--from=quay.io/ocp/release:4.18"}, wantCode: 2, want: "error: --kubeconfig /nonexistent/kubeconfig: "},
		{name: "missing kubeconfig is the first error", args: []string{"--kubeconfig=/nonexistent/kubeconfig", "--shards=3"}, wantCode: 2, want: "error: --kubeconfig /nonexistent/kubeconfig: "},
		{name: "empty --name", args: []string{"--name="}, wantCode: 2, want: `invalid value "" for flag -name: empty value`},
		{name: "empty item in --name", args: []string{"--name=initial,"}, wantCode: 2, want: `invalid value "initial," for flag -name: empty value in "initial,"`},
		{name: "namespace from the kubeconfig context", args: []string{"--kubeconfig=" + writeKubeconfig(t, forbidden.URL), "--from=quay.io/ocp/release:4.18"}, wantCode: 1, want: "not allowed to list image streams in namespace ci-op-from-context"},
		{name: "diagnose without a cluster", args: []string{"diagnose", "--namespace=ci-op-x"}, wantCode: 2, want: "diagnose reads a real cluster"},
		{name: "diagnose forbidden", args: []string{"diagnose", "--kubeconfig=" + writeKubeconfig(t, forbidden.URL)}, wantCode: 2, want: "not allowed to list image streams in namespace ci-op-from-context"},
		{name: "unreachable cluster", args: []string{"--kubeconfig=" + writeKubeconfig(t, closedURL), "--namespace=ci-op-x", "--from=quay.io/ocp/release:4.18"}, wantCode: 1, want: "could not reach the cluster at " + closedURL},
		{name: "unauthorized", args: []string{"--kubeconfig=" + writeKubeconfig(t, unauthorized.URL), "--namespace=ci-op-x", "--from=quay.io/ocp/release:4.18"}, wantCode: 1, want: "did not accept the credentials"},
		{name: "forbidden", args: []string{"--kubeconfig=" + writeKubeconfig(t, forbidden.URL), "--namespace=ci-op-x", "--from=quay.io/ocp/release:4.18"}, wantCode: 1, want: "not allowed to list image streams in namespace ci-op-x"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCommand(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			// The flag package follows an unknown flag with the usage; every
			// other error is one line.
			if !strings.HasPrefix(tc.want, "flag provided") && !strings.HasPrefix(tc.want, "invalid value") && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("the error is not one line:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty:\n%s", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	stdout, stderr, code := runCommand(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stdout + stderr
	for _, want := range []string{"Usage:", "embedded fake OpenShift", "-namespace", "-name", "-from", "-reference-policy", "-cli-image", "-kubeconfig", "-in-cluster", "-shards", "-timeout", "-output", "-log-level",
		"-stall-timeout duration\n    \tFail a wait for a pod", "-import-stall-timeout duration\n    \tFail a wait for imports", "(default 45m0s)"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestFailureIsReportedFirst runs the command in-process with an image that
// cannot be imported: the exit status is 1 and the summary starts with what
// failed and why.
func TestFailureIsReportedFirst(t *testing.T) {
	var broken string
	prepareEmbedded = func(env *environment) {
		tag := env.releases["latest"].Tags[2]
		broken = tag.Name
		env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: tag.PullSpec, Permanent: registry.ReasonUnauthorized})
	}
	defer func() { prepareEmbedded = nil }()
	var stdout, stderr bytes.Buffer
	code := command.Main(t.Context(), []string{"--shards=2", "--images=10", "--stall-timeout=20s"}, &stdout, &stderr, newEmbedded)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "FAILED:\n") {
		t.Errorf("the summary does not start with what failed:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 4 {
		t.Fatalf("the summary is too short:\n%s", out)
	}
	// The one-shard baseline fails first, then both shards, in one line
	// that names them, the image and why.
	for i, prefix := range []string{"  [1] baseline (one shard in ", "  [2] shard-0, shard-1 (2 of 2 shards): "} {
		line := lines[1+i]
		if !strings.HasPrefix(line, prefix) {
			t.Errorf("failure line %d %q does not start with %q", i, line, prefix)
		}
		for _, want := range []string{broken, string(registry.ReasonUnauthorized)} {
			if !strings.Contains(line, want) {
				t.Errorf("failure line %q does not name %q", line, want)
			}
		}
	}
	if strings.Count(out, string(registry.ReasonUnauthorized)) != 2 {
		t.Errorf("the error is not printed once per way it failed:\n%s", out)
	}
	if !strings.Contains(out, "shard-1  failed [2]") {
		t.Errorf("the shard table does not point at the failure:\n%s", out)
	}
	if !strings.Contains(out, "0 of 2 shards succeeded") {
		t.Errorf("the summary does not count the failed shards:\n%s", out)
	}
}
