package command

import (
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ci-operator-plugins/import-release/pkg/steps/release"
)

// progressPrinter turns the progress of every shard into lines a person can
// follow: one line per release for each new stage, pod phase, and tenth of
// the images imported, however many shards report the same thing; "done"
// once the last shard is.
type progressPrinter struct {
	out     io.Writer
	enabled bool
	shards  int
	start   time.Time

	mu       sync.Mutex
	releases map[string]*releaseProgress
}

type releaseProgress struct {
	stage    release.Stage
	pods     map[string]corev1.PodPhase
	imported int
	done     map[string]bool
}

func newProgressPrinter(out io.Writer, enabled bool, shards int) *progressPrinter {
	return &progressPrinter{out: out, enabled: enabled, shards: shards, start: time.Now(), releases: map[string]*releaseProgress{}}
}

func (p *progressPrinter) note(format string, args ...any) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printf("", format, args...)
}

func (p *progressPrinter) printf(release, format string, args ...any) {
	prefix := ""
	if release != "" {
		prefix = fmt.Sprintf("[release:%s] ", release)
	}
	fmt.Fprintf(p.out, "%6.2fs %s%s\n", time.Since(p.start).Seconds(), prefix, fmt.Sprintf(format, args...))
}

var stageText = map[release.Stage]string{
	release.StageRelease: "importing the payload into release:%s",
	release.StageCLI:     "finding the CLI image",
	release.StageExtract: "reading the payload's image references",
	release.StageMerge:   "merging the payload's images into the stable stream",
}

func (p *progressPrinter) observe(shard string, ev release.Progress) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.releases[ev.Release]
	if r == nil {
		r = &releaseProgress{pods: map[string]corev1.PodPhase{}, imported: -1, done: map[string]bool{}}
		p.releases[ev.Release] = r
	}
	switch {
	case ev.Pod != "":
		p.observePod(r, shard, ev)
	case ev.Stage == release.StageDone:
		r.done[shard] = true
		if len(r.done) == p.shards {
			p.printf(ev.Release, "done: %d images imported", ev.Total)
		}
	default:
		p.observeStage(r, ev)
	}
}

func (p *progressPrinter) observePod(r *releaseProgress, shard string, ev release.Progress) {
	if ev.PodCreated {
		p.printf(ev.Release, "%s created pod %s", shard, ev.Pod)
	}
	// Shards see the same pod at different moments: report a phase only
	// when it is further along than what was reported.
	if ev.PodPhase != "" && phaseRank(ev.PodPhase) > phaseRank(r.pods[ev.Pod]) {
		r.pods[ev.Pod] = ev.PodPhase
		p.printf(ev.Release, "pod %s is %s", ev.Pod, ev.PodPhase)
	}
}

func (p *progressPrinter) observeStage(r *releaseProgress, ev release.Progress) {
	if r.stage.Before(ev.Stage) {
		r.stage = ev.Stage
		r.imported = -1
		if text, ok := stageText[ev.Stage]; ok {
			if ev.Stage == release.StageRelease {
				text = fmt.Sprintf(text, ev.Release)
			}
			p.printf(ev.Release, "%s", text)
		}
	}
	if ev.Stage == release.StageImages && ev.Stage == r.stage && ev.Total > 0 {
		bucket := ev.Imported * 10 / ev.Total
		if r.imported < 0 || bucket > r.imported*10/ev.Total {
			r.imported = ev.Imported
			p.printf(ev.Release, "%d/%d images imported", ev.Imported, ev.Total)
		}
	}
}

func phaseRank(phase corev1.PodPhase) int {
	switch phase {
	case corev1.PodPending:
		return 1
	case corev1.PodRunning:
		return 2
	case corev1.PodSucceeded, corev1.PodFailed:
		return 3
	}
	return 0
}
