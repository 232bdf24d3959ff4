package main

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
// the images imported, however many shards report the same thing.
type progressPrinter struct {
	out     io.Writer
	enabled bool
	start   time.Time

	mu       sync.Mutex
	releases map[string]*releaseProgress
}

type releaseProgress struct {
	stage    string
	pods     map[string]corev1.PodPhase
	imported int
}

func newProgressPrinter(out io.Writer, enabled bool) *progressPrinter {
	return &progressPrinter{out: out, enabled: enabled, start: time.Now(), releases: map[string]*releaseProgress{}}
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

var stageText = map[string]string{
	"release": "importing the payload into release:%s",
	"cli":     "finding the CLI image",
	"extract": "reading the payload's image references",
	"merge":   "merging the payload's images into the stable stream",
}

func (p *progressPrinter) observe(shard string, ev release.Progress) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.releases[ev.Release]
	if r == nil {
		r = &releaseProgress{pods: map[string]corev1.PodPhase{}, imported: -1}
		p.releases[ev.Release] = r
	}
	if ev.Pod != "" {
		if ev.PodCreated {
			p.printf(ev.Release, "%s created pod %s", shard, ev.Pod)
		}
		// Shards see the same pod at different moments: report a phase
		// only when it is further along than what was reported.
		if ev.PodPhase != "" && phaseRank(ev.PodPhase) > phaseRank(r.pods[ev.Pod]) {
			r.pods[ev.Pod] = ev.PodPhase
			p.printf(ev.Release, "pod %s is %s", ev.Pod, ev.PodPhase)
		}
		return
	}
	if ev.Stage != r.stage && stageRank(ev.Stage) > stageRank(r.stage) {
		r.stage = ev.Stage
		switch ev.Stage {
		case "images":
			r.imported = -1
		case "done":
			p.printf(ev.Release, "done: %d images imported", ev.Total)
			return
		default:
			if text, ok := stageText[ev.Stage]; ok {
				if ev.Stage == "release" {
					text = fmt.Sprintf(text, ev.Release)
				}
				p.printf(ev.Release, "%s", text)
			}
		}
	}
	if ev.Stage == "images" && ev.Stage == r.stage && ev.Total > 0 {
		bucket := ev.Imported * 10 / ev.Total
		if r.imported < 0 || bucket > r.imported*10/ev.Total {
			r.imported = ev.Imported
			p.printf(ev.Release, "%d/%d images imported", ev.Imported, ev.Total)
		}
	}
}

func stageRank(stage string) int {
	switch stage {
	case "release":
		return 1
	case "cli":
		return 2
	case "extract":
		return 3
	case "merge":
		return 4
	case "images":
		return 5
	case "done":
		return 6
	}
	return 0
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
