// Package cioperator wraps import-release's step as a ci-operator step: a
// ci-tools api.Step built from what ci-tools' pkg/defaults passes to its own
// release.ImportReleaseStep, with ci-tools' links, failure reasons and
// metrics events. It is its own module, built against a ci-tools checkout by
// hack/verify-ci-operator-adapter.sh; the main module never depends on
// ci-tools.
package cioperator

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift/ci-tools/pkg/api"
	"github.com/openshift/ci-tools/pkg/kubernetes"
	"github.com/openshift/ci-tools/pkg/metrics"
	"github.com/openshift/ci-tools/pkg/results"

	irapi "github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// Reason is the failure reason ci-operator reports for the step, as its own
// import_release step does.
const Reason results.Reason = "importing_release"

// Recorder receives the step's metrics events; ci-tools' *metrics.MetricsAgent
// is one (and a nil one records nothing).
type Recorder interface {
	Record(ev metrics.MetricsEvent)
}

// Options is what ci-tools' pkg/defaults passes to its import_release step.
type Options struct {
	Name, NodeName, Target string
	ReferencePolicy        imagev1.TagReferencePolicyType
	// Source is ci-tools' release.ReleaseSource, which has the method set of
	// import-release's.
	Source    release.ReleaseSource
	Append    bool
	Resources api.ResourceConfiguration
	JobSpec   *api.JobSpec
	// PullSecret is the job's pull secret in the test namespace, if any.
	PullSecret *corev1.Secret
	// OverrideCLIReleaseExtractImage is the DockerImage reference of the CLI
	// image for non-amd64 payloads.
	OverrideCLIReleaseExtractImage *corev1.ObjectReference
	// ArtifactDir is where the payload's image-references are written;
	// ImportReleaseStep sets $ARTIFACTS/release, where ci-operator's step's
	// pod uploads them.
	ArtifactDir string
	// Configure, when set, may change the step's configuration last (tests
	// shorten its timeouts with it).
	Configure func(*release.Config)
}

// ImportReleaseStep has the signature of ci-tools' release.ImportReleaseStep,
// so that pkg/defaults can call it in its place.
func ImportReleaseStep(
	name, nodeName, target string,
	referencePolicy imagev1.TagReferencePolicyType,
	source release.ReleaseSource,
	append bool,
	resources api.ResourceConfiguration,
	client kubernetes.PodClient,
	jobSpec *api.JobSpec,
	pullSecret *corev1.Secret,
	overrideCLIReleaseExtractImage *corev1.ObjectReference) api.Step {
	var artifactDir string
	if dir, ok := api.Artifacts(); ok {
		artifactDir = filepath.Join(dir, "release")
	}
	var recorder Recorder
	if agent := client.MetricsAgent(); agent != nil {
		recorder = agent
	}
	return NewStep(Options{
		Name: name, NodeName: nodeName, Target: target, ReferencePolicy: referencePolicy,
		Source: source, Append: append, Resources: resources, JobSpec: jobSpec,
		PullSecret: pullSecret, OverrideCLIReleaseExtractImage: overrideCLIReleaseExtractImage,
		ArtifactDir: artifactDir,
	}, client, client.Objects, recorder)
}

// NewStep returns the step for a client, a source of the objects the client
// saw (ci-operator's logging client keeps them) and a metrics recorder; both
// may be nil.
func NewStep(o Options, client ctrlruntimeclient.WithWatch, objects func() []ctrlruntimeclient.Object, recorder Recorder) api.Step {
	s := &step{options: o, objects: objects, events: newEventLog(o, recorder)}
	config := release.Config{
		Name:             o.Name,
		NodeName:         o.NodeName,
		Target:           o.Target,
		ReferencePolicy:  o.ReferencePolicy,
		Source:           o.Source,
		Append:           o.Append,
		Resources:        resourcesFor(o.Name, o.Resources),
		PullSecret:       o.PullSecret,
		ArtifactDir:      o.ArtifactDir,
		OverrideCLIImage: overrideImage(o.OverrideCLIReleaseExtractImage),
		Observe:          s.events.observe,
	}
	if o.OverrideCLIReleaseExtractImage != nil && config.OverrideCLIImage == "" {
		s.invalid = fmt.Errorf("release %s: the override CLI image %s/%s is of kind %q, not DockerImage", o.Name, o.OverrideCLIReleaseExtractImage.Namespace, o.OverrideCLIReleaseExtractImage.Name, o.OverrideCLIReleaseExtractImage.Kind)
	}
	if o.Configure != nil {
		o.Configure(&config)
	}
	var job irapi.Job
	if o.JobSpec != nil {
		job = o.JobSpec
	}
	s.inner = release.ImportReleaseStep(config, client, job)
	original := s.inner.Provides()[irapi.OriginalReleaseImageEnv(o.Name)]
	s.events.original = func() string {
		value, err := original()
		if err != nil {
			return ""
		}
		pullSpec, _ := value.(string)
		return pullSpec
	}
	return s
}

type step struct {
	options Options
	inner   irapi.Step
	objects func() []ctrlruntimeclient.Object
	events  *eventLog
	invalid error
}

var _ api.Step = &step{}

func (s *step) Inputs() (api.InputDefinition, error) {
	in, err := s.inner.Inputs()
	return api.InputDefinition(in), err
}

func (s *step) Validate() error {
	if s.invalid != nil {
		return s.invalid
	}
	return s.inner.Validate()
}

// Run fails with the reason ci-operator's step reports, so that ci-operator's
// step-graph runner and its result metrics see the same failure.
func (s *step) Run(ctx context.Context) error {
	s.events.start(s.options.JobSpec)
	err := s.inner.Run(ctx)
	s.events.finish(err)
	return results.ForReason(Reason).ForError(err)
}

// Name is the target, as ci-operator's step names itself.
func (s *step) Name() string        { return s.options.Target }
func (s *step) Description() string { return s.inner.Description() }
func (s *step) Requires() []api.StepLink {
	return links(s.inner.Requires())
}
func (s *step) Creates() []api.StepLink {
	return links(s.inner.Creates())
}

func (s *step) Provides() api.ParameterMap {
	return api.ParameterMap(s.inner.Provides())
}

// Objects returns what the client saw, as ci-operator's step does, or, with
// no such client, what the step recorded.
func (s *step) Objects() []ctrlruntimeclient.Object {
	if s.objects != nil {
		return s.objects()
	}
	return s.inner.Objects()
}

// links maps the step's links to ci-tools' link constructors. The step makes
// only three kinds: the payload tag, a release's stable stream and "images
// ready".
func links(in []irapi.StepLink) []api.StepLink {
	out := []api.StepLink{}
	for _, l := range in {
		out = append(out, link(l))
	}
	return out
}

func link(l irapi.StepLink) api.StepLink {
	id := fmt.Sprint(l)
	switch {
	case id == "images-ready":
		return api.ImagesReadyLink()
	case strings.HasPrefix(id, "imagestreamtag/"+api.ReleaseImageStream+":"):
		return api.ReleasePayloadImageLink(strings.TrimPrefix(id, "imagestreamtag/"+api.ReleaseImageStream+":"))
	case strings.HasPrefix(id, "imagestream/") && api.IsReleaseStream(strings.TrimPrefix(id, "imagestream/")):
		return api.ReleaseImagesLink(api.ReleaseNameFrom(strings.TrimPrefix(id, "imagestream/")))
	}
	return unmapped{id: id}
}

// unmapped is a link ci-tools has no constructor for; no step satisfies it,
// so ci-operator reports it when it builds the graph.
type unmapped struct{ id string }

func (u unmapped) SatisfiedBy(api.StepLink) bool { return false }
func (u unmapped) UnsatisfiableError() string {
	return fmt.Sprintf("import-release link %s has no ci-operator equivalent", u.id)
}

// resourcesFor computes the extract pod's requirements as ci-operator's step
// does: the "release-images-<name>" entry over "*", where that entry defaults
// to requests of 50m CPU and 400Mi. The CLI pod, which ci-operator runs
// without requirements, gets the same.
func resourcesFor(name string, in api.ResourceConfiguration) map[string]corev1.ResourceRequirements {
	key := "release-images-" + name
	copied := api.ResourceConfiguration{}
	for k, v := range in {
		copied[k] = v
	}
	if _, ok := copied[key]; !ok {
		copied[key] = api.ResourceRequirements{Requests: api.ResourceList{"cpu": "50m", "memory": "400Mi"}}
	}
	r := requirements(copied.RequirementsForStep(key))
	return map[string]corev1.ResourceRequirements{"*": r}
}

func requirements(in api.ResourceRequirements) corev1.ResourceRequirements {
	list := func(l api.ResourceList) corev1.ResourceList {
		if len(l) == 0 {
			return nil
		}
		out := corev1.ResourceList{}
		for k, v := range l {
			if q, err := resource.ParseQuantity(v); err == nil {
				out[corev1.ResourceName(k)] = q
			}
		}
		return out
	}
	return corev1.ResourceRequirements{Requests: list(in.Requests), Limits: list(in.Limits)}
}

func overrideImage(ref *corev1.ObjectReference) string {
	if ref == nil || ref.Kind != "DockerImage" {
		return ""
	}
	return ref.Name
}
