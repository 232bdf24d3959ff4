// Package diagnose explains the import state of a namespace for a person on
// call: per release, the payload, the stable stream's tags (imported, pending
// or failed, with reason and generation), the step's pods and their phases,
// the re-trigger record with any open claims, and what other payloads left
// behind. It only reads.
//
//	d, err := diagnose.Namespace(ctx, client, "ci-op-abcd1234", diagnose.StreamRecords{})
//	d.PrintText(os.Stdout) // d.NeedsAttention says whether a person must act
//
// The re-trigger record is read through a RecordReader, so a change of the
// record's format changes one adapter (records.go).
package diagnose

import (
	"context"
	"fmt"
	"sort"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// Diagnosis is the import state of one namespace.
type Diagnosis struct {
	Namespace string `json:"namespace"`
	// NeedsAttention is true when something will not resolve on its own;
	// Attention says what, one line each.
	NeedsAttention bool      `json:"needsAttention"`
	Attention      []string  `json:"attention,omitempty"`
	Releases       []Release `json:"releases"`
	// Leftovers are the step's objects for payloads the namespace's
	// releases no longer point at.
	Leftovers []Object `json:"leftovers,omitempty"`
}

// Release is the state of one release name.
type Release struct {
	Name string `json:"name"`
	// Payload is the state of release:<name>; PayloadImage the payload by
	// digest once imported.
	Payload      TagStatus `json:"payload"`
	PayloadImage string    `json:"payloadImage,omitempty"`
	Stream       string    `json:"stream"`
	StreamFound  bool      `json:"streamFound"`
	// Counts of the stable stream's tags by phase, and every tag's state.
	Counts     map[imagestreams.Phase]int `json:"counts"`
	Tags       []TagStatus                `json:"tags,omitempty"`
	Pods       []Object                   `json:"pods,omitempty"`
	Retriggers *Record                    `json:"retriggers,omitempty"`
}

// TagStatus is one tag's import state for its current generation.
type TagStatus struct {
	Tag        string             `json:"tag"`
	Phase      imagestreams.Phase `json:"phase"`
	Generation int64              `json:"generation"`
	Source     string             `json:"source,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	Message    string             `json:"message,omitempty"`
	// Class says, for a failed import, whether trying again may help.
	Class imagestreams.FailureClass `json:"class,omitempty"`
}

// Object is a pod or ConfigMap of the step.
type Object struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Release string `json:"release"`
	Role    string `json:"role,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message,omitempty"`
}

// roleLabel on a pod says what it does for the release (cli or extract).
const roleLabel = "ci.openshift.io/release-role"

// Namespace diagnoses namespace. It fails only when it cannot read.
func Namespace(ctx context.Context, client ctrlruntimeclient.Reader, namespace string, records RecordReader) (*Diagnosis, error) {
	objs, err := read(ctx, client, namespace)
	if err != nil {
		return nil, err
	}
	d := &Diagnosis{Namespace: namespace}
	for _, name := range objs.releaseNames() {
		r, err := objs.release(ctx, client, records, name)
		if err != nil {
			return nil, err
		}
		d.Releases = append(d.Releases, r)
		d.Leftovers = append(d.Leftovers, objs.leftovers(name, r.PayloadImage)...)
	}
	d.judge()
	return d, nil
}

// objects are what the namespace holds of the step.
type objects struct {
	streams    map[string]*imagev1.ImageStream
	pods       []corev1.Pod
	configMaps []corev1.ConfigMap
}

func read(ctx context.Context, client ctrlruntimeclient.Reader, namespace string) (*objects, error) {
	streams := &imagev1.ImageStreamList{}
	if err := client.List(ctx, streams, ctrlruntimeclient.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("could not list image streams in %s: %w", namespace, err)
	}
	hasRelease := ctrlruntimeclient.HasLabels{api.ReleaseLabel}
	pods := &corev1.PodList{}
	if err := client.List(ctx, pods, ctrlruntimeclient.InNamespace(namespace), hasRelease); err != nil {
		return nil, fmt.Errorf("could not list pods in %s: %w", namespace, err)
	}
	configMaps := &corev1.ConfigMapList{}
	if err := client.List(ctx, configMaps, ctrlruntimeclient.InNamespace(namespace), hasRelease); err != nil && !apierrors.IsForbidden(err) {
		return nil, fmt.Errorf("could not list ConfigMaps in %s: %w", namespace, err)
	}
	o := &objects{streams: map[string]*imagev1.ImageStream{}, pods: pods.Items, configMaps: configMaps.Items}
	for i := range streams.Items {
		o.streams[streams.Items[i].Name] = &streams.Items[i]
	}
	return o, nil
}

// releaseNames are the release names the release stream has a tag for.
func (o *objects) releaseNames() []string {
	var names []string
	if is := o.streams[api.ReleaseImageStream]; is != nil {
		for _, tag := range is.Spec.Tags {
			names = append(names, tag.Name)
		}
	}
	sort.Strings(names)
	return names
}

func (o *objects) release(ctx context.Context, client ctrlruntimeclient.Reader, records RecordReader, name string) (Release, error) {
	r := Release{Name: name, Stream: api.ReleaseStreamFor(name), Counts: map[imagestreams.Phase]int{}}
	payload := imagestreams.StateOf(o.streams[api.ReleaseImageStream], name)
	r.Payload = statusOf(payload)
	if payload.Phase == imagestreams.Imported {
		r.PayloadImage = payload.DockerImageReference
	}
	if stable := o.streams[r.Stream]; stable != nil {
		r.StreamFound = true
		for _, tag := range stable.Spec.Tags {
			st := statusOf(imagestreams.StateOf(stable, tag.Name))
			r.Counts[st.Phase]++
			r.Tags = append(r.Tags, st)
		}
	}
	for _, pod := range o.pods {
		if pod.Labels[api.ReleaseLabel] == name {
			r.Pods = append(r.Pods, podObject(&pod))
		}
	}
	var err error
	if r.Retriggers, err = records.Read(ctx, client, o.streams[r.Stream]); err != nil {
		return r, fmt.Errorf("could not read the re-trigger record of %s: %w", r.Stream, err)
	}
	return r, nil
}

func statusOf(st imagestreams.TagState) TagStatus {
	status := TagStatus{Tag: st.Tag, Phase: st.Phase, Generation: st.Generation, Source: st.Source, Reason: st.Reason, Message: st.Message}
	if st.Phase == imagestreams.Failed {
		status.Class = st.Class()
	}
	return status
}

func podObject(pod *corev1.Pod) Object {
	obj := Object{Kind: "Pod", Name: pod.Name, Release: pod.Labels[api.ReleaseLabel], Role: pod.Labels[roleLabel], Phase: string(pod.Status.Phase)}
	for _, cs := range pod.Status.ContainerStatuses {
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
			obj.Message = fmt.Sprintf("%s: %s", cs.State.Terminated.Reason, cs.State.Terminated.Message)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			obj.Message = fmt.Sprintf("%s: %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
		}
	}
	return obj
}
