package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command"
	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// TestInterrupt sends SIGINT to the running command: it stops, says it was
// interrupted (not "context canceled") and exits 130.
func TestInterrupt(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "--shards=4", "--images=400")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the shards are at work.
	var stderr strings.Builder
	lines := bufio.NewScanner(stderrPipe)
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "created pod") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != command.ExitInterrupted {
		t.Fatalf("exit %v, want %d\nstdout:\n%s\nstderr:\n%s", err, command.ExitInterrupted, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "error: interrupted by SIGINT") {
		t.Errorf("stderr does not say the command was interrupted:\n%s", stderr.String())
	}
	for _, out := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(out, "context canceled") {
			t.Errorf("the output speaks of the context, not the interrupt:\n%s", out)
		}
	}
}

// TestTimeout: a run that reaches --timeout exits 3 and says so.
func TestTimeout(t *testing.T) {
	stdout, stderr, code := runCommand(t, "--shards=2", "--images=400", "--timeout=300ms")
	if code != command.ExitTimeout {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, command.ExitTimeout, stdout, stderr)
	}
	if !strings.Contains(stderr, "error: gave up after --timeout=300ms") {
		t.Errorf("stderr does not say the timeout was reached:\n%s", stderr)
	}
	if !strings.Contains(stdout, "shard-0, shard-1 (2 of 2 shards): gave up after --timeout=300ms") {
		t.Errorf("the summary does not say the shards stopped at the timeout:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "context deadline exceeded") {
		t.Errorf("the output speaks of the context, not the timeout:\n%s\n%s", stdout, stderr)
	}
}

func TestVersion(t *testing.T) {
	stdout, stderr, code := runCommand(t, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "import-release ") || !strings.Contains(stdout, "built with go") || stderr != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestDiagnoseOnFailure diagnoses the embedded cluster's namespace after a
// failed import, before the cluster is gone.
func TestDiagnoseOnFailure(t *testing.T) {
	var broken registry.Tag
	prepareEmbedded = func(env *environment) {
		broken = env.releases["latest"].Tags[1]
		env.cluster.Registry().AddFault(registry.FaultRule{PullSpec: broken.PullSpec, Permanent: registry.ReasonUnauthorized})
	}
	defer func() { prepareEmbedded = nil }()
	var stdout, stderr bytes.Buffer
	code := command.Main(t.Context(), []string{"--images=10", "--stall-timeout=20s", "--diagnose-on-failure"}, &stdout, &stderr, newEmbedded)
	if code != command.ExitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, command.ExitFailed, stdout.String(), stderr.String())
	}
	_, diagnosis, ok := strings.Cut(stdout.String(), "Namespace ci-op-import-release: NEEDS ATTENTION\n")
	if !ok {
		t.Fatalf("no diagnosis after the summary:\n%s", stdout.String())
	}
	for _, want := range []string{"stable:" + broken.Name, "for generation", string(registry.ReasonUnauthorized), "re-trigger " + broken.Name + ": 2 of the budget used, finished"} {
		if !strings.Contains(diagnosis, want) {
			t.Errorf("the diagnosis lacks %q:\n%s", want, diagnosis)
		}
	}
}
