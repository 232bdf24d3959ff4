// Package command is import-release's command line: the import into a
// namespace by any number of shards, its report, and `import-release
// diagnose`. It imports no fake cluster: the embedded fake OpenShift comes in
// through an EmbeddedFunc that package main passes to Main, so this package
// (the real-cluster path) builds without pkg/fakeopenshift, which
// hack/verify-deps.sh checks.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"k8s.io/klog/v2"
)

// Exit statuses of the command.
const (
	// ExitOK: every shard succeeded (and, on the embedded cluster, every
	// invariant held); for diagnose, nothing needs a person.
	ExitOK = 0
	// ExitFailed: the import failed; for diagnose, something needs a person.
	ExitFailed = 1
	// ExitUsage: bad flags or arguments; nothing was touched.
	ExitUsage = 2
	// ExitTimeout: --timeout was reached.
	ExitTimeout = 3
	// ExitInterrupted and ExitTerminated follow the shell's 128+signal.
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// Version is the command's version; the Makefile sets it from git describe.
var Version = ""

// EmbeddedFunc starts the embedded cluster and its payloads for o.
type EmbeddedFunc func(ctx context.Context, o *Options) (Environment, error)

// SignalError is the cause of a context a signal cancelled.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string {
	return fmt.Sprintf("interrupted by %s", signalName(e.Signal))
}

// TimeoutError is the cause of a context --timeout ended.
type TimeoutError struct{ Timeout time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("gave up after --timeout=%s", e.Timeout)
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// NotifyContext returns a context cancelled with a *SignalError on SIGINT or
// SIGTERM. A second signal is left to the default handling (exit at once).
func NotifyContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-signals:
			signal.Stop(signals)
			cancel(&SignalError{Signal: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(signals); cancel(nil) }
}

// Main is the whole command; it returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, embedded EmbeddedFunc) int {
	// client-go reports every watch a finished wait stops as an error; the
	// step reports what matters.
	klog.SetLogger(logr.Discard())
	if len(args) > 0 && args[0] == "diagnose" {
		return diagnoseMain(ctx, args[1:], stdout, stderr)
	}
	o, err := parseOptions(args, stderr)
	if err != nil {
		return usageCode(err, stderr)
	}
	if o.Version {
		fmt.Fprintln(stdout, versionString())
		return ExitOK
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, &TimeoutError{Timeout: o.Timeout})
	defer cancel()
	code := importMain(ctx, o, stdout, stderr, embedded)
	return stoppedCode(ctx, code, stderr)
}

// usageCode is the exit status of a command line that did not parse: 0 for
// --help, which printed the usage.
func usageCode(err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return ExitUsage
}

// stoppedCode turns the exit status of a run a signal or --timeout stopped
// into the status that says so, and says so on stderr.
func stoppedCode(ctx context.Context, code int, stderr io.Writer) int {
	if code == ExitOK || ctx.Err() == nil {
		return code
	}
	cause := context.Cause(ctx)
	var sig *SignalError
	var timeout *TimeoutError
	switch {
	case errors.As(cause, &sig):
		fmt.Fprintf(stderr, "error: %v; the shards stopped and deleted nothing shared\n", cause)
		if sig.Signal == syscall.SIGTERM {
			return ExitTerminated
		}
		return ExitInterrupted
	case errors.As(cause, &timeout):
		fmt.Fprintf(stderr, "error: %v; the import did not finish in time\n", cause)
		return ExitTimeout
	}
	return code
}

func importMain(ctx context.Context, o *Options, stdout, stderr io.Writer, embedded EmbeddedFunc) int {
	// The log and the progress lines of every shard share stderr.
	stderr = &lockedWriter{w: stderr}
	logger := logrus.New()
	logger.SetOutput(stderr)
	level, _ := logrus.ParseLevel(o.LogLevel)
	logger.SetLevel(level)

	env, code := openEnvironment(ctx, o, embedded, stderr)
	if env == nil {
		return code
	}
	defer env.Close()
	progress := newProgressPrinter(stderr, o.Output == "text", o.Shards)
	res := runImport(ctx, o, env, logger, progress)
	rep := buildReport(ctx, o, env, res)
	if !rep.OK && o.DiagnoseOnFailure {
		rep.Diagnosis = diagnoseNamespace(ctx, env.Client("diagnose"), o.Namespace)
	}
	if err := rep.print(stdout, o.Output); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return ExitFailed
	}
	if !rep.OK {
		return ExitFailed
	}
	return ExitOK
}

func openEnvironment(ctx context.Context, o *Options, embedded EmbeddedFunc, stderr io.Writer) (Environment, int) {
	if !o.Embedded() {
		env, err := newRemote(ctx, &o.clusterOptions, o.From)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return nil, ExitFailed
		}
		return env, ExitOK
	}
	if embedded == nil {
		fmt.Fprintln(stderr, "error: this build has no embedded cluster; give --kubeconfig or --in-cluster")
		return nil, ExitUsage
	}
	env, err := embedded(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return nil, ExitUsage
	}
	return env, ExitOK
}

func versionString() string {
	v := Version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "unknown"
	}
	goVersion := "unknown"
	if ok {
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				v += " (" + s.Value + ")"
			}
		}
	}
	return fmt.Sprintf("import-release %s, built with %s", v, goVersion)
}

// lockedWriter serialises the writes of several writers that share one
// io.Writer (the shards' loggers and the progress printer share stderr).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
