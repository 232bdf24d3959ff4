package command

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/cmd/import-release/internal/diagnose"
)

const diagnoseUsage = `import-release diagnose explains the import state of a namespace for a person
on call, and changes nothing: per release, the payload, the stable stream's
tags (imported, pending or failed, with reason and generation), the pods and
their phases, the re-trigger record and its open claims, and what other
payloads left behind.

Exit status: 0 nothing needs a person, 1 something does (listed first),
2 bad usage or the namespace could not be read.

For the embedded cluster, which lives only as long as one command, run the
import with --diagnose-on-failure instead.

Usage:
  import-release diagnose --namespace=NS [--kubeconfig=PATH | --in-cluster] [--output=json]

Flags:
`

// records is the reader of the re-trigger record the step keeps.
var records diagnose.RecordReader = diagnose.Records{}

func diagnoseMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &clusterOptions{}
	fs := flag.NewFlagSet("import-release diagnose", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), diagnoseUsage)
		fs.PrintDefaults()
	}
	clusterFlags(fs, o, "Namespace to diagnose. Default: the kubeconfig context's namespace.")
	if err := fs.Parse(args); err != nil {
		return usageCode(err, stderr)
	}
	err := o.completeCluster()
	if err == nil && o.Embedded() {
		err = errors.New("diagnose reads a real cluster: give --kubeconfig or --in-cluster (for the embedded cluster run the import with --diagnose-on-failure)")
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitUsage
	}
	env, err := newRemote(ctx, o, nil)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitUsage
	}
	d, err := diagnose.Namespace(ctx, env.Client("diagnose"), o.Namespace, records)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitUsage
	}
	if err := printDiagnosis(stdout, d, o.Output); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitUsage
	}
	if d.NeedsAttention {
		return ExitFailed
	}
	return ExitOK
}

func printDiagnosis(w io.Writer, d *diagnose.Diagnosis, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	d.PrintText(w)
	return nil
}

// diagnoseNamespace diagnoses the namespace a failed import ran in; a
// diagnosis that cannot read says so in its attention list.
func diagnoseNamespace(ctx context.Context, client ctrlruntimeclient.Reader, namespace string) *diagnose.Diagnosis {
	// The run's context may be over (a timeout or an interrupt); the
	// diagnosis still reads, for a bounded time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	d, err := diagnose.Namespace(ctx, client, namespace, records)
	if err != nil {
		return &diagnose.Diagnosis{Namespace: namespace, NeedsAttention: true, Attention: []string{"could not diagnose: " + err.Error()}}
	}
	return d
}
