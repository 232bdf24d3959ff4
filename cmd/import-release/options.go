package main

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

	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// options are the command line of import-release.
type options struct {
	namespace       string
	names           []string
	from            map[string]string
	referencePolicy string
	cliImage        string
	kubeconfig      string
	inCluster       bool
	shards          int
	images          int
	timeout         time.Duration
	stallTimeout    time.Duration
	output          string
	logLevel        string
}

// listFlag is a flag that may be repeated and takes comma-separated lists.
type listFlag struct{ values *[]string }

func (f listFlag) String() string {
	if f.values == nil {
		return ""
	}
	return strings.Join(*f.values, ",")
}

func (f listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*f.values = append(*f.values, item)
		}
	}
	return nil
}

// fromFlag collects --from values: NAME=PULLSPEC, or a bare PULLSPEC for the
// only release.
type fromFlag struct{ values *[]string }

func (f fromFlag) String() string {
	if f.values == nil {
		return ""
	}
	return strings.Join(*f.values, ",")
}

func (f fromFlag) Set(v string) error {
	*f.values = append(*f.values, v)
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

Examples:
  # initial and latest, 16 concurrent shards, on the embedded cluster
  import-release --name=initial,latest --shards=16

  # one release into a real namespace
  import-release --kubeconfig=$KUBECONFIG --namespace=ci-op-abcd1234 \
      --name=latest --from=quay.io/openshift-release-dev/ocp-release:4.18.0-x86_64

Flags:
`

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{from: map[string]string{}}
	var from []string
	fs := flag.NewFlagSet("import-release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.namespace, "namespace", "", "Namespace to import into. Required with a real cluster; the embedded cluster uses ci-op-import-release by default.")
	fs.Var(listFlag{&o.names}, "name", "Release name to import (e.g. initial, latest). Repeat it or give a comma-separated list to import several side by side, as ci-operator runs them. Default: latest.")
	fs.Var(fromFlag{&from}, "from", "Pull spec of the payload to import, as NAME=PULLSPEC (repeatable), or a bare PULLSPEC when there is one release. Required with a real cluster. On the embedded cluster it picks the generated payload's version: registry.fake.openshift.test/ocp/release:<version>.")
	fs.StringVar(&o.referencePolicy, "reference-policy", string(imagev1.SourceTagReferencePolicy), "Reference policy of the imported tags: Source (the tags resolve to where the images came from) or Local (they resolve to the cluster's registry, which pulls through).")
	fs.StringVar(&o.cliImage, "cli-image", "", "Pull spec of a CLI image to extract the payload with, for payloads whose own CLI image does not run on the cluster's architecture. It is imported into amd64-cli:latest.")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig: import into that cluster instead of the embedded one.")
	fs.BoolVar(&o.inCluster, "in-cluster", false, "Import into the cluster this pod runs in, with its service account.")
	fs.IntVar(&o.shards, "shards", 1, "Embedded cluster only: number of concurrent processes importing the same releases into the same namespace, as the shards of an aggregated /payload job do.")
	fs.IntVar(&o.images, "images", 190, "Embedded cluster only: number of images in each generated payload (a 4.x payload has about 190).")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "Give up after this long.")
	fs.DurationVar(&o.stallTimeout, "stall-timeout", 10*time.Minute, "Fail a wait (for imports or a pod) that sees no progress for this long.")
	fs.StringVar(&o.output, "output", "text", "Output format of the summary: text for people, json for tools (one JSON document on stdout).")
	fs.StringVar(&o.logLevel, "log-level", "warning", "Level of the step's logs on stderr: debug, info, warning or error. Progress and the summary are printed whatever the level.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := o.complete(from); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *options) embedded() bool { return o.kubeconfig == "" && !o.inCluster }

// complete validates the flags and fills the defaults. Every error here comes
// before anything touches a cluster.
func (o *options) complete(from []string) error {
	if len(o.names) == 0 {
		o.names = []string{"latest"}
	}
	seen := map[string]bool{}
	for _, name := range o.names {
		if !validName(name) {
			return fmt.Errorf("--name %q: a release name is lower-case letters, digits and dashes", name)
		}
		if seen[name] {
			return fmt.Errorf("--name %q given twice", name)
		}
		seen[name] = true
	}
	for _, v := range from {
		name, spec, ok := strings.Cut(v, "=")
		if !ok {
			if len(o.names) != 1 {
				return fmt.Errorf("--from %q: with several releases, give NAME=PULLSPEC", v)
			}
			name, spec = o.names[0], v
		}
		if !seen[name] {
			return fmt.Errorf("--from %q: %q is not one of the releases given with --name (%s)", v, name, strings.Join(o.names, ", "))
		}
		if _, err := pullspec.Parse(spec); err != nil {
			return fmt.Errorf("--from %s: %w", name, err)
		}
		o.from[name] = spec
	}
	if o.cliImage != "" {
		if _, err := pullspec.Parse(o.cliImage); err != nil {
			return fmt.Errorf("--cli-image: %w", err)
		}
	}
	switch imagev1.TagReferencePolicyType(o.referencePolicy) {
	case imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy:
	default:
		return fmt.Errorf("--reference-policy %q: want Source or Local", o.referencePolicy)
	}
	switch o.output {
	case "text", "json":
	default:
		return fmt.Errorf("--output %q: want text or json", o.output)
	}
	if _, err := logrus.ParseLevel(o.logLevel); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warning or error", o.logLevel)
	}
	if o.shards < 1 || o.shards > 256 {
		return fmt.Errorf("--shards %d: want 1 to 256", o.shards)
	}
	if o.images < 1 || o.images > 2000 {
		return fmt.Errorf("--images %d: want 1 to 2000", o.images)
	}
	if o.timeout <= 0 || o.stallTimeout <= 0 {
		return errors.New("--timeout and --stall-timeout must be positive")
	}
	if o.kubeconfig != "" && o.inCluster {
		return errors.New("--kubeconfig and --in-cluster exclude each other")
	}
	if !o.embedded() {
		if o.shards != 1 {
			return errors.New("--shards works with the embedded cluster only; with a real cluster the command is one process")
		}
		if o.namespace == "" {
			return errors.New("--namespace is required with a real cluster")
		}
		var missing []string
		for _, name := range o.names {
			if o.from[name] == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fmt.Errorf("--from is required with a real cluster; missing for %s", strings.Join(missing, ", "))
		}
	}
	if o.namespace == "" {
		o.namespace = "ci-op-import-release"
	}
	return nil
}

func validName(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-' && i > 0 && i < len(name)-1:
		default:
			return false
		}
	}
	return true
}
