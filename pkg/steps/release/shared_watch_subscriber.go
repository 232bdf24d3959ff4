package release

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/watch"
)

// subscriber is one watcher of a shared watch: it gets the latest state
// whenever the version differs from the one it last got.
type subscriber struct {
	w       *sharedWatch
	result  chan watch.Event
	kicks   chan struct{}
	stopped chan struct{}
	once    sync.Once
	sent    string
}

// subscribe starts a watcher that has the state of version from.
func (w *sharedWatch) subscribe(ctx context.Context, from string) watch.Interface {
	sub := &subscriber{w: w, result: make(chan watch.Event), kicks: make(chan struct{}, 1), stopped: make(chan struct{}), sent: from}
	w.mu.Lock()
	w.subs[sub] = struct{}{}
	w.mu.Unlock()
	sub.kick()
	go sub.loop(ctx)
	return sub
}

func (s *subscriber) kick() {
	select {
	case s.kicks <- struct{}{}:
	default:
	}
}

func (s *subscriber) end() { s.once.Do(func() { close(s.stopped) }) }

func (s *subscriber) Stop() {
	s.end()
	s.w.mu.Lock()
	delete(s.w.subs, s)
	s.w.mu.Unlock()
}

func (s *subscriber) ResultChan() <-chan watch.Event { return s.result }

func (s *subscriber) loop(ctx context.Context) {
	defer close(s.result)
	for {
		select {
		case <-s.kicks:
		case <-s.stopped:
			return
		case <-ctx.Done():
			return
		}
		ev, ok := s.next()
		if !ok {
			continue
		}
		select {
		case s.result <- ev:
		case <-s.stopped:
			return
		case <-ctx.Done():
			return
		}
	}
}

// next returns the latest state as an event, unless the watcher has it.
func (s *subscriber) next() (watch.Event, bool) {
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.version == s.sent || w.obj == nil {
		return watch.Event{}, false
	}
	s.sent = w.version
	if !w.exists {
		return watch.Event{Type: watch.Deleted, Object: w.obj.DeepCopyObject()}, true
	}
	return watch.Event{Type: watch.Modified, Object: w.obj.DeepCopyObject()}, true
}
