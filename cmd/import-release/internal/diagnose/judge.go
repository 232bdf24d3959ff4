package diagnose

import (
	"fmt"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// leftovers are the pods and ConfigMaps of release name that are not named
// for its current payload: another payload was imported under the same name
// before. Without an imported payload nothing can be told apart.
func (o *objects) leftovers(name, payload string) []Object {
	if payload == "" {
		return nil
	}
	current := map[string]bool{release.CLIPodName(name, payload): true, release.ExtractName(name, payload): true}
	var out []Object
	for _, pod := range o.pods {
		if pod.Labels[api.ReleaseLabel] == name && !current[pod.Name] {
			out = append(out, podObject(&pod))
		}
	}
	for _, cm := range o.configMaps {
		if cm.Labels[api.ReleaseLabel] == name && (!current[cm.Name] || cm.Annotations[release.SourceAnnotation] != payload) {
			out = append(out, Object{Kind: "ConfigMap", Name: cm.Name, Release: name, Message: "extracted from " + cm.Annotations[release.SourceAnnotation]})
		}
	}
	return out
}

// judge decides what needs a person: a failed import no process is
// re-triggering, a pod that failed, leftovers of another payload.
func (d *Diagnosis) judge() {
	for _, r := range d.Releases {
		open := r.Retriggers.openClaims()
		if r.Payload.Phase == imagestreams.Failed && !open[r.Name] {
			d.attention("release:%s: the import of the payload %s failed: %s: %s", r.Name, r.Payload.Source, r.Payload.Reason, r.Payload.Message)
		}
		for _, tag := range r.Tags {
			if tag.Phase == imagestreams.Failed && !open[tag.Tag] {
				d.attention("%s:%s: the import of %s failed for generation %d (%s): %s: %s", r.Stream, tag.Tag, tag.Source, tag.Generation, tag.Class, tag.Reason, tag.Message)
			}
		}
		for _, pod := range r.Pods {
			if pod.Phase == "Failed" {
				d.attention("pod %s failed: %s", pod.Name, pod.Message)
			}
		}
	}
	for _, obj := range d.Leftovers {
		d.attention("%s %s is left from another payload of release %s: the namespace imported two payloads under one name", obj.Kind, obj.Name, obj.Release)
	}
}

func (d *Diagnosis) attention(format string, args ...any) {
	d.NeedsAttention = true
	d.Attention = append(d.Attention, fmt.Sprintf(format, args...))
}
