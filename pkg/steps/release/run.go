package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

func (s *importReleaseStep) run(ctx context.Context) error {
	if err := s.Validate(); err != nil {
		return err
	}
	namespace := s.jobSpec.Namespace()
	if namespace == "" {
		return fmt.Errorf("the job has no namespace")
	}
	source, err := s.config.Source.PullSpec(ctx)
	if err != nil {
		return err
	}
	if _, err := pullspec.Parse(source); err != nil {
		return fmt.Errorf("release %s: %w", s.config.Name, err)
	}
	if s.config.OverrideCLIImage != "" {
		if _, err := pullspec.Parse(s.config.OverrideCLIImage); err != nil {
			return fmt.Errorf("release %s: override CLI image: %w", s.config.Name, err)
		}
	}
	name := s.config.Name
	stable := api.ReleaseStreamFor(name)
	log := s.log.WithField("pullSpec", source)
	log.Infof("Importing release %s into %s/%s", name, namespace, stable)

	// The release payload itself, into release:<name>.
	s.observe(Progress{Stage: "release", Total: 1})
	release := imagestreams.Stream(namespace, api.ReleaseImageStream).
		WithSpec(imagev1apply.ImageStreamSpec().
			WithLookupPolicy(imagev1apply.ImageLookupPolicy().WithLocal(true)).
			WithTags(imagestreams.Tag(name, source, s.config.ReferencePolicy)))
	if err := s.apply(ctx, release, imagestreams.ReleaseManager(name), true); err != nil {
		return err
	}
	if err := s.apply(ctx, imagestreams.Stream(namespace, stable), imagestreams.ManagerStream, true); err != nil {
		return err
	}
	releaseIS, err := s.waitForImports(ctx, namespace, api.ReleaseImageStream, []string{name}, "release")
	if err != nil {
		return fmt.Errorf("could not import the release payload %s: %w", source, err)
	}
	s.record("ImageStream", releaseIS)
	payload := imagestreams.StateOf(releaseIS, name).DockerImageReference
	log = log.WithField("payload", payload)
	log.Infof("Imported release payload %s", payload)

	cli, err := s.resolveCLI(ctx, namespace, stable, payload)
	if err != nil {
		return fmt.Errorf("could not find the CLI image of release %s: %w", name, err)
	}
	log.WithField("cli", cli).Debug("Resolved the CLI image")

	references, err := s.extract(ctx, namespace, cli, payload)
	if err != nil {
		return fmt.Errorf("could not read the image references of release %s: %w", name, err)
	}

	// Merge every payload tag into the stable stream in one apply.
	s.observe(Progress{Stage: "merge", Total: len(references.Spec.Tags)})
	tags := make([]string, 0, len(references.Spec.Tags))
	var tagConfigs []*imagev1apply.TagReferenceApplyConfiguration
	for _, tag := range references.Spec.Tags {
		tags = append(tags, tag.Name)
		tagConfigs = append(tagConfigs, imagestreams.Tag(tag.Name, tag.From.Name, s.config.ReferencePolicy))
	}
	// Another process has usually merged already: a read is far cheaper for
	// the server than a no-op apply of a few hundred tags.
	current := &imagev1.ImageStream{}
	if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stable}, current); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("could not read image stream %s/%s: %w", namespace, stable, err)
	}
	// The annotation goes first: the merge must be the last write to the
	// stream, since any write while the import controller imports the
	// payload's tags (in one batch) makes it discard the batch and start over.
	if err := s.applyReleaseConfig(ctx, current, namespace, stable, references.Name); err != nil {
		return err
	}
	if !s.merged(current, references) {
		log.Infof("Merging %d images of release %s into %s", len(tags), references.Name, stable)
		stored, err := s.applyStream(ctx, imagestreams.StreamWithTags(namespace, stable, tagConfigs...), imagestreams.ManagerPayload, true)
		if err != nil {
			return err
		}
		if err := s.resetForeignFields(ctx, stored, references); err != nil {
			return err
		}
	}
	stableIS, err := s.waitForImports(ctx, namespace, stable, tags, "images")
	if err != nil {
		return fmt.Errorf("could not import the images of release %s: %w", name, err)
	}
	s.record("ImageStream", stableIS)

	releaseImage := imagestreams.RepositoryPullSpecFor(releaseIS, name)
	s.mu.Lock()
	s.releaseImage = releaseImage
	s.mu.Unlock()
	s.observe(Progress{Stage: "done", Imported: len(tags), Total: len(tags)})
	log.WithField("releaseImage", releaseImage).Infof("Imported release %s: %d images in %s", name, len(tags), stable)
	return nil
}

// apply server-side applies a stream. API errors that say "try again" are
// retried; an apply does the same thing however often it lands.
func (s *importReleaseStep) apply(ctx context.Context, ac *imagev1apply.ImageStreamApplyConfiguration, manager string, force bool) error {
	_, err := s.applyStream(ctx, ac, manager, force)
	return err
}

// applyStream is apply, returning the stream as the server stored it.
func (s *importReleaseStep) applyStream(ctx context.Context, ac *imagev1apply.ImageStreamApplyConfiguration, manager string, force bool) (*imagev1.ImageStream, error) {
	opts := []ctrlruntimeclient.ApplyOption{ctrlruntimeclient.FieldOwner(manager)}
	if force {
		opts = append(opts, ctrlruntimeclient.ForceOwnership)
	}
	// A client decodes the server's answer into the apply configuration it
	// is given, so every attempt gets a fresh copy of what the caller built:
	// a retry that sent a decoded answer would claim every field of the
	// stream for manager and carry a resourceVersion that is stale by then.
	intent, err := json.Marshal(ac)
	if err != nil {
		return nil, fmt.Errorf("could not encode the apply configuration of image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	var answer *imagev1apply.ImageStreamApplyConfiguration
	err = retry.OnError(applyBackoff, isRetriable, func() error {
		answer = &imagev1apply.ImageStreamApplyConfiguration{}
		if err := json.Unmarshal(intent, answer); err != nil {
			return err
		}
		return s.client.Apply(ctx, answer, opts...)
	})
	if err != nil {
		return nil, fmt.Errorf("could not apply image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	data, err := json.Marshal(answer)
	if err != nil {
		return nil, fmt.Errorf("could not encode the applied image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	stored := &imagev1.ImageStream{}
	if err := json.Unmarshal(data, stored); err != nil {
		return nil, fmt.Errorf("could not decode the applied image stream %s/%s: %w", *ac.Namespace, *ac.Name, err)
	}
	return stored, nil
}

// applyBackoff spaces the retries of an apply. client-go's DefaultBackoff
// (4 tries within about 0.3s) gives up in a short burst of throttling or
// server errors; this allows 8 tries within about 1.3s, jittered so that N
// processes that failed together do not retry together.
var applyBackoff = wait.Backoff{Steps: 8, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 2 * time.Second}

// isRetriable reports API errors worth retrying: throttling, timeouts, server
// errors, and conflicts (an apply carries no resourceVersion, so a conflict
// is a transient one, e.g. from a proxy).
func isRetriable(err error) bool {
	return apiretry.IsTransient(err) || (apierrors.IsConflict(err) && !isApplyConflict(err))
}

// isApplyConflict tells a field-ownership conflict of server-side apply
// (which retrying cannot fix) from an optimistic-concurrency one.
func isApplyConflict(err error) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Type == "FieldManagerConflict" {
			return true
		}
	}
	return false
}

var semverPrefix = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$`)

// applyReleaseConfig sets the release.openshift.io/config annotation for a
// payload named by a semantic version, unless another writer owns it.
func (s *importReleaseStep) applyReleaseConfig(ctx context.Context, current *imagev1.ImageStream, namespace, stable, payloadName string) error {
	m := semverPrefix.FindStringSubmatch(payloadName)
	if m == nil {
		return nil
	}
	config, err := json.Marshal(map[string]string{"name": fmt.Sprintf("%s.%s.%s-0", m[1], m[2], m[3])})
	if err != nil {
		return err
	}
	if current.Annotations[api.ReleaseConfigAnnotation] == string(config) {
		return nil
	}
	ac := imagev1apply.ImageStream(stable, namespace).WithAnnotations(map[string]string{api.ReleaseConfigAnnotation: string(config)})
	err = s.apply(ctx, ac, imagestreams.ManagerConfig, false)
	if isApplyConflict(unwrapAPI(err)) {
		s.log.WithField("annotation", api.ReleaseConfigAnnotation).Info("Leaving the release config annotation to the writer that owns it")
		return nil
	}
	return err
}

func unwrapAPI(err error) error {
	for e := err; e != nil; {
		if _, ok := e.(apierrors.APIStatus); ok {
			return e
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		e = u.Unwrap()
	}
	return err
}

func (s *importReleaseStep) waitForImports(ctx context.Context, namespace, stream string, tags []string, stage string) (*imagev1.ImageStream, error) {
	log := s.log.WithField("imageStream", stream)
	last := -1
	return imagestreams.WaitForImports(ctx, s.client, namespace, stream, tags,
		imagestreams.WithReferencePolicy(s.config.ReferencePolicy),
		imagestreams.WithRetries(s.config.ImportRetries),
		imagestreams.WithRetryDelay(s.config.RetryDelay),
		imagestreams.WithStallTimeout(s.config.StallTimeout),
		imagestreams.WithRetriggerObserver(func(tags []string) {
			log.WithField("tags", tags).Info("Re-triggering failed imports")
			s.observe(Progress{Stage: stage, Retriggered: tags})
		}),
		imagestreams.WithProgress(func(p imagestreams.Progress) {
			if p.Imported != last {
				last = p.Imported
				if len(tags) > 1 {
					log.Infof("Imported %d/%d images into %s", p.Imported, p.Total, stream)
				}
			}
			for _, f := range p.Failed {
				log.WithField("tag", f.Tag).Warnf("Import failed: %s: %s", f.Reason, f.Message)
			}
			s.observe(Progress{Stage: stage, Imported: p.Imported, Total: p.Total})
		}))
}

// contentName names an object by what it is for and a short hash of its
// input, so that every process that needs it computes the same name, and a
// different input never finds the object of another.
func contentName(prefix, input string) string {
	sum := sha256.Sum256([]byte(input))
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}

// merged reports whether every payload tag is in the stream with its
// canonical definition, so that applying them would change nothing.
func (s *importReleaseStep) merged(current *imagev1.ImageStream, references *imagev1.ImageStream) bool {
	have := make(map[string]imagev1.TagReference, len(current.Spec.Tags))
	for _, tag := range current.Spec.Tags {
		have[tag.Name] = tag
	}
	for _, tag := range references.Spec.Tags {
		got, ok := have[tag.Name]
		if !ok || !imagestreams.IsCanonical(got, tag.From.Name, s.config.ReferencePolicy) {
			return false
		}
	}
	return true
}
