// Command import-release imports OpenShift release payloads into a CI
// namespace the way ci-operator's import_release step does, with any number
// of concurrent shards, on an embedded fake OpenShift (the default) or on a
// real cluster (--kubeconfig, --in-cluster); `import-release diagnose`
// explains a namespace's import state. Run it with --help.
//
// The command itself is internal/command, which does not import the fake
// cluster; this package adds the embedded cluster (embedded.go) and its
// counters (report.go).
package main

import (
	"context"
	"os"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/command"
)

func main() {
	ctx, cancel := command.NotifyContext(context.Background())
	code := command.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, newEmbedded)
	cancel()
	os.Exit(code)
}
