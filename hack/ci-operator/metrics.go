package cioperator

import (
	"sync"
	"time"

	"github.com/openshift/ci-tools/pkg/api"
	"github.com/openshift/ci-tools/pkg/metrics"

	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// eventLog turns the step's progress into the metrics events ci-operator's
// step records: an ImageStreamEvent for each stream it makes sure of, a
// TagImportEvent (with the number of re-triggered imports as its retry
// count) for the payload tag and the cli tag, and one for the whole release.
type eventLog struct {
	options  Options
	recorder Recorder

	mu      sync.Mutex
	jobSpec *api.JobSpec
	started time.Time
	order   []string
	reached map[string]time.Time
	retries map[string]int
	// original returns the pull spec the run imported.
	original func() string
}

func newEventLog(o Options, recorder Recorder) *eventLog {
	return &eventLog{options: o, recorder: recorder, reached: map[string]time.Time{}, retries: map[string]int{}}
}

func (l *eventLog) start(jobSpec *api.JobSpec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.jobSpec = jobSpec
	l.started = time.Now()
}

func (l *eventLog) observe(p release.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.reached[string(p.Stage)]; !ok {
		l.reached[string(p.Stage)] = time.Now()
		l.order = append(l.order, string(p.Stage))
	}
	l.retries[string(p.Stage)] += len(p.Retriggered)
}

// finish records the events of one run.
func (l *eventLog) finish(runErr error) {
	if l.recorder == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	namespace := ""
	if l.jobSpec != nil {
		namespace = l.jobSpec.Namespace()
	}
	name := l.options.Name
	stable := api.ReleaseStreamFor(name)
	source := ""
	if l.original != nil {
		source = l.original()
	}
	now := time.Now()
	streams := []string{api.ReleaseImageStream, stable}
	if l.options.OverrideCLIReleaseExtractImage != nil {
		streams = append(streams, release.OverrideCLIStream)
	}
	pastRelease := l.next("release") != ""
	for _, stream := range streams {
		ev := &metrics.ImageStreamEvent{Namespace: namespace, ImageStreamName: stream, FullName: namespace + "/" + stream, Success: pastRelease || runErr == nil}
		if !ev.Success {
			ev.Error = runErr.Error()
		}
		l.recorder.Record(ev)
	}
	for _, tag := range []struct{ stage, stream, tag, source string }{{"release", api.ReleaseImageStream, name, source}, {"cli", stable, "cli", ""}} {
		begin, ok := l.reached[tag.stage]
		if !ok {
			continue
		}
		next := l.next(tag.stage)
		end := now
		if next != "" {
			end = l.reached[next]
		}
		ev := l.tagEvent(namespace, tag.stream, tag.tag, begin, end, l.retries[tag.stage], next != "" || runErr == nil, runErr)
		ev.SourceImage = tag.source
		l.recorder.Record(ev)
	}
	ev := l.tagEvent(namespace, stable, name, l.started, now, l.retries["images"], runErr == nil, runErr)
	ev.SourceImage = source
	l.recorder.Record(ev)
}

// next returns the stage reached after stage, or "".
func (l *eventLog) next(stage string) string {
	for i, s := range l.order {
		if s == stage && i+1 < len(l.order) {
			return l.order[i+1]
		}
	}
	return ""
}

func (l *eventLog) tagEvent(namespace, stream, tag string, begin, end time.Time, retries int, success bool, runErr error) *metrics.TagImportEvent {
	ev := &metrics.TagImportEvent{
		Namespace:       namespace,
		ImageStreamName: stream,
		TagName:         tag,
		FullTagName:     namespace + "/" + stream + ":" + tag,
		SourceImageKind: "DockerImage",
		StartTime:       begin,
		CompletionTime:  end,
		DurationSeconds: end.Sub(begin).Seconds(),
		RetryCount:      retries,
		Success:         success,
	}
	if !success && runErr != nil {
		ev.Error = runErr.Error()
	}
	return ev
}
