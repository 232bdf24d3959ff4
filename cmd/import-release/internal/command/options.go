package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// Options are the command line of import-release.
type Options struct {
	clusterOptions
	Names           []string
	From            map[string]string
	ReferencePolicy string
	CLIImage        string
	Shards          int
	Images          int
	Timeout         time.Duration
	StallTimeout    time.Duration
	// ImportStallTimeout is the stall timeout of the waits for imports.
	ImportStallTimeout time.Duration
	LogLevel           string
	// DiagnoseOnFailure diagnoses the namespace after a failed import.
	DiagnoseOnFailure bool
	// Version prints the version and exits.
	Version bool
}

// listFlag is a flag that may be repeated; with split, each value is a
// comma-separated list. It refuses an empty item: `--name=` is a mistake, not
// a request for the default.
type listFlag struct {
	values *[]string
	split  bool
}

func (f listFlag) String() string {
	if f.values == nil {
		return ""
	}
	return strings.Join(*f.values, ",")
}

func (f listFlag) Set(v string) error {
	items := []string{v}
	if f.split {
		items = strings.Split(v, ",")
	}
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return fmt.Errorf("empty value in %q", v)
		}
		*f.values = append(*f.values, item)
	}
	return nil
}

const usageHeader = `import-release imports OpenShift release payloads into a CI namespace, as
ci-operator's import_release step does: the payload into release:<name> and
every image of the payload into stable-<name> (stable for latest). Any number
of processes may import the same release into the same namespace at once; the
work is done once.

With no cluster given it starts an embedded fake OpenShift (image API, import
controller, kubelet and a registry of generated payloads) and runs there, so
you can watch N shards of an aggregated job import a release without a
cluster. With --kubeconfig or --in-cluster it imports into a real cluster.

Usage:
  import-release [flags]
  import-release diagnose --namespace=NS [--kubeconfig=PATH | --in-cluster] [--output=json]

Examples:
  # initial and latest, 16 concurrent shards, on the embedded cluster
  import-release --name=initial,latest --shards=16

  # one release into a real namespace
  import-release --kubeconfig=$KUBECONFIG --namespace=ci-op-abcd1234 \
      --name=latest --from=quay.io/openshift-release-dev/ocp-release:4.18.0-x86_64

  # what is the state of the imports in a namespace, for a person on call
  import-release diagnose --kubeconfig=$KUBECONFIG --namespace=ci-op-abcd1234

Exit status: 0 success, 1 the import failed, 2 bad usage, 3 --timeout
reached, 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Flags:
`

func parseOptions(args []string, stderr io.Writer) (*Options, error) {
	o := &Options{From: map[string]string{}}
	var from []string
	fs := flag.NewFlagSet("import-release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	fs.Var(listFlag{values: &o.Names, split: true}, "name", "Release name to import (e.g. initial, latest). Repeat it or give a comma-separated list to import several side by side, as ci-operator runs them. Default: latest.")
	fs.Var(listFlag{values: &from}, "from", "Pull spec of the payload to import, as NAME=PULLSPEC (repeatable), or a bare PULLSPEC when there is one release. Required with a real cluster. On the embedded cluster it picks the generated payload's version: registry.fake.openshift.test/ocp/release:<version>.")
	fs.StringVar(&o.ReferencePolicy, "reference-policy", string(imagev1.SourceTagReferencePolicy), "Reference policy of the imported tags: Source (the tags resolve to where the images came from) or Local (they resolve to the cluster's registry, which pulls through).")
	fs.StringVar(&o.CLIImage, "cli-image", "", "Pull spec of a CLI image to extract the payload with, for payloads whose own CLI image does not run on the cluster's architecture. It is imported into amd64-cli:latest.")
	fs.IntVar(&o.Shards, "shards", 1, "Embedded cluster only: number of concurrent processes importing the same releases into the same namespace, as the shards of an aggregated /payload job do.")
	fs.IntVar(&o.Images, "images", 190, "Embedded cluster only: number of images in each generated payload (a 4.x payload has about 190).")
	fs.DurationVar(&o.Timeout, "timeout", time.Hour, fmt.Sprintf("Give up after this long (exit status %d).", ExitTimeout))
	fs.DurationVar(&o.StallTimeout, "stall-timeout", release.DefaultStallTimeout, "Fail a wait for a pod that does not change phase for this long.")
	fs.DurationVar(&o.ImportStallTimeout, "import-stall-timeout", release.DefaultImportStallTimeout, "Fail a wait for imports when, for this long, no image changes state and no process imports for it (tags left pending are imported by the step itself after a few minutes). The default is what the step this replaces waited for a payload's images.")
	fs.StringVar(&o.LogLevel, "log-level", "warning", "Level of the step's logs on stderr: debug, info, warning or error. Progress and the summary are printed whatever the level.")
	fs.BoolVar(&o.DiagnoseOnFailure, "diagnose-on-failure", false, "After a failed import, print what import-release diagnose says of the namespace (on the embedded cluster too, which is gone when the command ends).")
	fs.BoolVar(&o.Version, "version", false, "Print the version and exit.")
	clusterFlags(fs, &o.clusterOptions, "Namespace to import into. Default: the kubeconfig context's namespace with --kubeconfig; ci-op-import-release on the embedded cluster.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.Version {
		return o, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := o.complete(from); err != nil {
		return nil, err
	}
	return o, nil
}

// clusterOptions are the flags that choose a cluster and a namespace; the
// import and diagnose share them.
type clusterOptions struct {
	Namespace  string
	Kubeconfig string
	InCluster  bool
	Output     string
}

func clusterFlags(fs *flag.FlagSet, o *clusterOptions, namespaceUsage string) {
	fs.StringVar(&o.Namespace, "namespace", "", namespaceUsage)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "Path to a kubeconfig: use that cluster instead of the embedded one.")
	fs.BoolVar(&o.InCluster, "in-cluster", false, "Use the cluster this pod runs in, with its service account.")
	fs.StringVar(&o.Output, "output", "text", "Output format: text for people, json for tools (one JSON document on stdout).")
}

// Embedded reports whether no real cluster was given.
func (o *clusterOptions) Embedded() bool { return o.Kubeconfig == "" && !o.InCluster }

// completeCluster checks the cluster flags, the kubeconfig first: a missing
// file is the first thing a person needs to hear of. With --kubeconfig the
// namespace defaults to the one of the kubeconfig's current context.
func (o *clusterOptions) completeCluster() error {
	if o.Kubeconfig != "" && o.InCluster {
		return errors.New("--kubeconfig and --in-cluster exclude each other")
	}
	if o.Kubeconfig != "" {
		config, err := clientcmd.LoadFromFile(o.Kubeconfig)
		if err != nil {
			return fmt.Errorf("--kubeconfig %s: %w", o.Kubeconfig, err)
		}
		if o.Namespace == "" {
			if c := config.Contexts[config.CurrentContext]; c != nil {
				o.Namespace = c.Namespace
			}
		}
	}
	switch o.Output {
	case "text", "json":
	default:
		return fmt.Errorf("--output %q: want text or json", o.Output)
	}
	switch {
	case o.Namespace != "" || o.Embedded():
	case o.Kubeconfig != "":
		return fmt.Errorf("--namespace is required: the current context of %s names no namespace", o.Kubeconfig)
	default:
		return errors.New("--namespace is required with --in-cluster")
	}
	return nil
}

// complete validates the flags and fills the defaults. Every error here comes
// before anything touches a cluster.
func (o *Options) complete(from []string) error {
	if err := o.completeCluster(); err != nil {
		return err
	}
	if len(o.Names) == 0 {
		o.Names = []string{api.LatestReleaseName}
	}
	if err := o.completeNames(from); err != nil {
		return err
	}
	if err := o.completeValues(); err != nil {
		return err
	}
	if !o.Embedded() {
		return o.completeReal()
	}
	if o.Namespace == "" {
		o.Namespace = "ci-op-import-release"
	}
	return nil
}

func (o *Options) completeNames(from []string) error {
	seen := map[string]bool{}
	for _, name := range o.Names {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 || len(name) > 40 {
			return fmt.Errorf("--name %q: a release name is lower-case letters, digits and dashes, at most 40", name)
		}
		if seen[name] {
			return fmt.Errorf("--name %q given twice", name)
		}
		seen[name] = true
	}
	for _, v := range from {
		name, spec, ok := strings.Cut(v, "=")
		if !ok {
			if len(o.Names) != 1 {
				return fmt.Errorf("--from %q: with several releases, give NAME=PULLSPEC", v)
			}
			name, spec = o.Names[0], v
		}
		if !seen[name] {
			return fmt.Errorf("--from %q: %q is not one of the releases given with --name (%s)", v, name, strings.Join(o.Names, ", "))
		}
		if _, err := pullspec.Parse(spec); err != nil {
			return fmt.Errorf("--from %s: %w", name, err)
		}
		o.From[name] = spec
	}
	return nil
}

func (o *Options) completeValues() error {
	if o.CLIImage != "" {
		if _, err := pullspec.Parse(o.CLIImage); err != nil {
			return fmt.Errorf("--cli-image: %w", err)
		}
	}
	switch imagev1.TagReferencePolicyType(o.ReferencePolicy) {
	case imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy:
	default:
		return fmt.Errorf("--reference-policy %q: want Source or Local", o.ReferencePolicy)
	}
	if _, err := logrus.ParseLevel(o.LogLevel); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warning or error", o.LogLevel)
	}
	if o.Shards < 1 || o.Shards > 256 {
		return fmt.Errorf("--shards %d: want 1 to 256", o.Shards)
	}
	if o.Images < 1 || o.Images > 2000 {
		return fmt.Errorf("--images %d: want 1 to 2000", o.Images)
	}
	if o.Timeout <= 0 || o.StallTimeout <= 0 || o.ImportStallTimeout <= 0 {
		return errors.New("--timeout, --stall-timeout and --import-stall-timeout must be positive")
	}
	return nil
}

func (o *Options) completeReal() error {
	if o.Shards != 1 {
		return errors.New("--shards works with the embedded cluster only; with a real cluster the command is one process")
	}
	var missing []string
	for _, name := range o.Names {
		if o.From[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("--from is required with a real cluster; missing for %s", strings.Join(missing, ", "))
	}
	return nil
}
