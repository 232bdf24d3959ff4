package release

import (
	"context"
	"fmt"
	"sync"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// Config is what ci-operator passes to the step.
type Config struct {
	// Name is the release name: "latest", "initial", or any other.
	Name string
	// NodeName pins the step's pods to a node when set.
	NodeName string
	// Target is the ci-operator target the step runs for, for logs.
	Target string
	// ReferencePolicy is the reference policy of every tag the step writes;
	// Source (the default) or Local.
	ReferencePolicy imagev1.TagReferencePolicyType
	// Source says where the payload comes from.
	Source ReleaseSource
	// Append is true when the release is added to a job that builds images
	// (tag_specification): the step then waits for those images first.
	Append bool
	// Resources overrides the pods' resource requirements, keyed by pod role
	// ("cli", "extract") or "*" for both.
	Resources map[string]corev1.ResourceRequirements
	// PullSecret, when set, is the secret (in the job's namespace) pods use to
	// pull the payload and CLI images.
	PullSecret *corev1.Secret
	// OverrideCLIImage is the pull spec of a CLI image to extract the payload
	// with, for payloads whose own CLI image does not run on the cluster's
	// architecture. It is imported into amd64-cli:latest.
	OverrideCLIImage string
	// ArtifactDir, when set, is the directory the step writes the payload's
	// image-references into, as release-images-<name>, for the job's
	// artifacts.
	ArtifactDir string

	// Tunables; the zero value means the default.

	// ImportRetries is how often a failed import of one tag is re-triggered.
	ImportRetries int
	// RetryDelay is the base delay before a re-trigger.
	RetryDelay time.Duration
	// StallTimeout fails a wait for a pod that sees no progress for this
	// long.
	StallTimeout time.Duration
	// ImportStallTimeout fails a wait for imports when, for this long, no
	// tag changes state and no process imports for it. Its default is as
	// patient as the step this replaces: a batch import shows nothing until
	// it ends.
	ImportStallTimeout time.Duration
	// PodFailures is how many Failed pods are replaced before giving up.
	PodFailures int
	// ClaimDuration is how long the records the step keeps on the cluster
	// (docs/records.md) stay valid after their holder's last renewal: the
	// longest a process that died can hold the others up.
	ClaimDuration time.Duration
	// Observe, when set, is called on every step of progress.
	Observe func(Progress)
	// Log is the logger; logrus's standard logger by default.
	Log *logrus.Entry
}

// Progress is what the step reports as it goes.
type Progress struct {
	Release string
	Stage   Stage
	// Imported and Total count the tags of the stream being waited for.
	Imported, Total int
	// Pod and PodPhase name the pod being waited for, if any; PodCreated is
	// true when this process created it.
	Pod        string
	PodPhase   corev1.PodPhase
	PodCreated bool
	Message    string
	// Retriggered names the tags whose failed import this process has just
	// re-triggered.
	Retriggered []string
}

// Stage is where a run of the step is. The stages come in the order of the
// constants below; Before compares two of them.
type Stage string

const (
	// StageRelease imports the payload into release:<name>.
	StageRelease Stage = "release"
	// StageCLI finds the CLI image (a pod asks the payload).
	StageCLI Stage = "cli"
	// StageExtract reads the payload's image references (a pod extracts them).
	StageExtract Stage = "extract"
	// StageMerge applies the payload's tags to the stable stream.
	StageMerge Stage = "merge"
	// StageImages waits until every payload tag is imported.
	StageImages Stage = "images"
	// StageDone: the release is imported.
	StageDone Stage = "done"
)

var stageOrder = map[Stage]int{StageRelease: 1, StageCLI: 2, StageExtract: 3, StageMerge: 4, StageImages: 5, StageDone: 6}

// Before reports whether s comes before other in a run; an unknown or empty
// stage comes before every known one.
func (s Stage) Before(other Stage) bool { return stageOrder[s] < stageOrder[other] }

// CLIPodName and ExtractName are the names of the content-addressed objects
// the step creates for release name and its payload (by digest): the pod
// that finds the CLI image, and the extract pod with the ConfigMap it writes.
func CLIPodName(name, payload string) string {
	return contentName("release-images-"+name+"-cli", payload)
}

// ExtractName is the name of the extract pod and of its ConfigMap.
func ExtractName(name, payload string) string {
	return contentName("release-images-"+name, payload)
}

// NewScheme returns a scheme with every kind the step reads or writes: core,
// RBAC and coordination from client-go, and image.openshift.io/v1.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(imagev1.Install(scheme))
	return scheme
}

// Defaults.
const (
	DefaultImportRetries = imagestreams.DefaultRetries
	DefaultRetryDelay    = imagestreams.DefaultRetryDelay
	DefaultStallTimeout  = 10 * time.Minute
	DefaultPodFailures   = 2
	// DefaultImportStallTimeout is 45 minutes, what the step this replaces
	// waited for a payload's tags.
	DefaultImportStallTimeout = imagestreams.DefaultStallTimeout
)

// importReleaseStep imports a release payload. Every write it makes is either
// a server-side apply of a value every process computes the same way (so a
// second process's write changes nothing) or the creation of an object named
// by a hash of its input (so a second process adopts the first one's). Waits
// watch the stream or the pod, and judge by the current generation, so no
// process needs to know what the others are doing.
type importReleaseStep struct {
	config  Config
	client  ctrlruntimeclient.WithWatch
	jobSpec api.Job
	log     *logrus.Entry

	mu      sync.Mutex
	objects map[string]ctrlruntimeclient.Object
	// releaseImage is RELEASE_IMAGE_<NAME>, known once the run imported it.
	releaseImage string
	// originalPullSpec is ORIGINAL_RELEASE_IMAGE_<NAME>: the pull spec the
	// source resolved to when the run asked it.
	originalPullSpec string
	// started is when the current run started.
	started time.Time
}

// ImportReleaseStep returns the import_release step for one release.
// jobSpec is read when the step runs: ci-operator's *api.JobSpec fits.
func ImportReleaseStep(config Config, client ctrlruntimeclient.WithWatch, jobSpec api.Job) api.Step {
	if config.ReferencePolicy == "" {
		config.ReferencePolicy = imagev1.SourceTagReferencePolicy
	}
	if config.ImportRetries == 0 {
		config.ImportRetries = DefaultImportRetries
	}
	if config.RetryDelay == 0 {
		config.RetryDelay = DefaultRetryDelay
	}
	if config.StallTimeout == 0 {
		config.StallTimeout = DefaultStallTimeout
	}
	if config.ImportStallTimeout == 0 {
		config.ImportStallTimeout = DefaultImportStallTimeout
	}
	if config.PodFailures == 0 {
		config.PodFailures = DefaultPodFailures
	}
	if config.ClaimDuration == 0 {
		config.ClaimDuration = imagestreams.DefaultClaimDuration
	}
	log := config.Log
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	if j, ok := jobSpec.(*api.JobSpec); jobSpec == nil || (ok && j == nil) {
		jobSpec = &api.JobSpec{}
	}
	s := &importReleaseStep{
		// Every request the step makes is retried by the one policy.
		client:  apiretry.NewClient(client, apiretry.DefaultBackoff),
		jobSpec: jobSpec,
		log:     log.WithField("release", config.Name),
		objects: map[string]ctrlruntimeclient.Object{},
	}
	if config.Source != nil {
		config.Source = &recordedSource{ReleaseSource: config.Source, record: s.setOriginalPullSpec}
	}
	s.config = config
	return s
}

func (s *importReleaseStep) Inputs() (api.InputDefinition, error) {
	if s.config.Source == nil {
		return nil, fmt.Errorf("release %s has no source", s.config.Name)
	}
	// Inputs has no context in ci-operator's contract; a source's Input is
	// local and quick.
	input, err := s.config.Source.Input(context.TODO())
	if err != nil {
		return nil, fmt.Errorf("could not determine the input of release %s: %w", s.config.Name, err)
	}
	return api.InputDefinition{input}, nil
}

func (s *importReleaseStep) Validate() error {
	if s.config.Name == "" {
		return fmt.Errorf("the release name is empty")
	}
	if err := validateReleaseName(s.config.Name); err != nil {
		return err
	}
	if s.config.Source == nil {
		return fmt.Errorf("release %s has no source", s.config.Name)
	}
	switch s.config.ReferencePolicy {
	case imagev1.SourceTagReferencePolicy, imagev1.LocalTagReferencePolicy:
	default:
		return fmt.Errorf("release %s: reference policy %q is neither Source nor Local", s.config.Name, s.config.ReferencePolicy)
	}
	return nil
}

func (s *importReleaseStep) Name() string {
	return fmt.Sprintf("[release:%s]", s.config.Name)
}

func (s *importReleaseStep) Description() string {
	return fmt.Sprintf("Import the release payload %q from an external source", s.config.Name)
}

func (s *importReleaseStep) Requires() []api.StepLink {
	switch {
	case !s.config.Append:
		return nil
	case s.config.Name == api.LatestReleaseName:
		return []api.StepLink{api.ImagesReadyLink()}
	default:
		return []api.StepLink{api.ReleaseImagesLink(api.LatestReleaseName)}
	}
}

func (s *importReleaseStep) Creates() []api.StepLink {
	links := []api.StepLink{api.ReleasePayloadImageLink(s.config.Name)}
	if !s.config.Append {
		links = append(links, api.ReleaseImagesLink(s.config.Name))
	}
	return links
}

func (s *importReleaseStep) Provides() api.ParameterMap {
	return api.ParameterMap{
		api.ReleaseImageEnv(s.config.Name): func() (any, error) {
			s.mu.Lock()
			cached := s.releaseImage
			s.mu.Unlock()
			if cached != "" {
				return cached, nil
			}
			if s.client == nil || s.jobSpec.Namespace() == "" {
				return nil, fmt.Errorf("release %s has not been imported yet", s.config.Name)
			}
			// As ci-operator's step, read it from the release stream when
			// this step object did not import it itself (another process
			// did). ParameterMap functions take no context.
			ctx, cancel := context.WithTimeout(context.TODO(), time.Minute)
			defer cancel()
			is := &imagev1.ImageStream{}
			if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: s.jobSpec.Namespace(), Name: api.ReleaseImageStream}, is); err != nil {
				return nil, fmt.Errorf("could not read the release stream for %s: %w", api.ReleaseImageEnv(s.config.Name), err)
			}
			if value := imagestreams.RepositoryPullSpecFor(is, s.config.Name); value != "" {
				return value, nil
			}
			return nil, fmt.Errorf("release %s has not been imported yet", s.config.Name)
		},
		// As ci-operator's step: the pull spec Run resolved, and empty
		// before Run, so that reading it never calls out to a resolving
		// source (a release controller, a cluster pool).
		api.OriginalReleaseImageEnv(s.config.Name): func() (any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.originalPullSpec, nil
		},
	}
}

func (s *importReleaseStep) Objects() []ctrlruntimeclient.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ctrlruntimeclient.Object, 0, len(s.objects))
	for _, o := range s.objects {
		out = append(out, o.DeepCopyObject().(ctrlruntimeclient.Object))
	}
	return out
}

func (s *importReleaseStep) record(kind string, obj ctrlruntimeclient.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[kind+"/"+obj.GetNamespace()+"/"+obj.GetName()] = obj.DeepCopyObject().(ctrlruntimeclient.Object)
}

func (s *importReleaseStep) observe(p Progress) {
	p.Release = s.config.Name
	if s.config.Observe != nil {
		s.config.Observe(p)
	}
}

// Run imports the release; a failure is tagged with the reason
// "importing_release".
func (s *importReleaseStep) Run(ctx context.Context) error {
	return api.ForReason("importing_release", s.run(ctx))
}
