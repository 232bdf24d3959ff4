package release

import (
	"context"
	"fmt"
	"strings"

	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/pods"
	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// OverrideCLIStream is the stream an override CLI image is imported into, as
// OverrideCLIStream:latest.
const OverrideCLIStream = "amd64-cli"

// resolveCLI returns the pull spec of the CLI image to extract the payload
// with: the override when one is configured, the stable stream's cli tag
// when it has one, and otherwise the answer of a pod running the payload's
// `cluster-version-operator image cli`, applied into the stable stream's cli
// tag so later processes find it there.
func (s *importReleaseStep) resolveCLI(ctx context.Context, namespace, stable, payload string, claim *payloadClaim) (string, error) {
	s.observe(Progress{Stage: "cli", Total: 1})
	if override := s.config.OverrideCLIImage; override != "" {
		ac := imagestreams.Stream(namespace, OverrideCLIStream).
			WithSpec(imagev1apply.ImageStreamSpec().
				WithLookupPolicy(imagev1apply.ImageLookupPolicy().WithLocal(true)).
				WithTags(imagestreams.Tag("latest", override, s.config.ReferencePolicy)))
		if err := s.apply(ctx, ac, imagestreams.ManagerCLI, true); err != nil {
			return "", err
		}
		return s.waitForCLI(ctx, namespace, OverrideCLIStream, "latest")
	}

	is := &imagev1.ImageStream{}
	if err := s.client.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: namespace, Name: stable}, is); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("could not read image stream %s/%s: %w", namespace, stable, err)
	}
	if cliPayload(is) != payload {
		if err := s.findCLI(ctx, namespace, stable, payload, claim); err != nil {
			return "", err
		}
	}
	return s.waitForCLI(ctx, namespace, stable, "cli")
}

// findCLI runs the payload's CLI pod (or adopts it) and applies its answer
// into the stable stream's cli tag. The process that created the pod
// applies it; the others watch the stream for it and apply it themselves
// only when it has not come within the takeover time.
func (s *importReleaseStep) findCLI(ctx context.Context, namespace, stable, payload string, claim *payloadClaim) error {
	pod, created, err := s.runPod(ctx, s.cliPod(namespace, payload), "cli", claim.podOptions(s.takeover())...)
	if err != nil {
		return err
	}
	cli := strings.TrimSpace(pods.TerminationMessage(pod))
	if _, err := pullspec.Parse(cli); err != nil {
		return fmt.Errorf("pod %s/%s did not print the CLI image's pull spec (%q): %w", pod.Namespace, pod.Name, cli, err)
	}
	if err := checkPinned(pod, payload); err != nil {
		return err
	}
	if !created {
		takeover := s.takeover()
		_, err := waitForStream(ctx, s.client, namespace, stable, takeover, func(is *imagev1.ImageStream) bool { return cliPayload(is) == payload }, nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting for the cli tag of %s/%s: %w", namespace, stable, ctx.Err())
		}
		s.log.Warnf("The cli tag of %s was not applied within %s; applying it", stable, takeover)
		claim.lead()
	}
	tag := imagestreams.Tag("cli", cli, s.config.ReferencePolicy).WithAnnotations(map[string]string{CLIPayloadAnnotation: payload})
	return s.apply(ctx, imagestreams.StreamWithTags(namespace, stable, tag), imagestreams.ManagerCLI, true)
}

// CLIPayloadAnnotation on the stable stream's cli tag is the provenance of
// the tag: the payload (by digest) whose CLI pod printed it. The step trusts
// a cli tag only for that payload; for any other it runs the payload's own
// CLI pod (content-addressed, so once per payload) and applies its answer.
const CLIPayloadAnnotation = "ci.openshift.io/import-release-payload"

// cliPayload returns the payload the stream's cli tag was resolved for, ""
// when it has no cli tag or the tag does not say.
func cliPayload(is *imagev1.ImageStream) string {
	for _, tag := range is.Spec.Tags {
		if tag.Name == "cli" {
			return tag.Annotations[CLIPayloadAnnotation]
		}
	}
	return ""
}

func (s *importReleaseStep) waitForCLI(ctx context.Context, namespace, stream, tag string) (string, error) {
	is, err := s.waitForImports(ctx, namespace, stream, []string{tag}, "cli")
	if err != nil {
		return "", err
	}
	// Pods pull by digest from where the image was imported from; that
	// works whatever the reference policy.
	return imagestreams.StateOf(is, tag).DockerImageReference, nil
}

// runPod runs a content-addressed pod to completion, created by whichever
// process is first and adopted by the rest; created says whether this
// process created it.
func (s *importReleaseStep) runPod(ctx context.Context, pod *corev1.Pod, stage Stage, opts ...pods.Option) (done *corev1.Pod, created bool, err error) {
	log := s.log.WithField("pod", pod.Name)
	done, err = pods.Run(ctx, s.client.WithWatch, pod, append([]pods.Option{
		pods.WithMaxFailures(s.config.PodFailures),
		pods.WithStallTimeout(s.config.StallTimeout),
		pods.WithObserver(func(ev pods.Event) {
			switch {
			case ev.Created:
				created = true
				log.Infof("Created pod %s", pod.Name)
			case ev.Replaced:
				log.Warnf("Pod %s failed; replacing it", pod.Name)
			default:
				log.Debugf("Pod %s is %s", pod.Name, ev.Phase)
			}
			s.observe(Progress{Stage: stage, Pod: pod.Name, PodPhase: ev.Phase, PodCreated: ev.Created})
		})}, opts...)...)
	if err != nil {
		return nil, created, err
	}
	s.record("Pod", done)
	return done, created, nil
}
