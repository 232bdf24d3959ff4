package fakeopenshift

import (
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Fault makes matching requests fail. Empty match fields match everything.
type Fault struct {
	// Process, Verb and Kind select the requests: e.g. "shard-3", "patch",
	// "ImageStream". Verbs are get, list, watch, create, update, patch,
	// apply, delete, deletecollection, update/status.
	Process, Verb, Kind string
	// Times is how many matching requests fail; 0 means every one.
	Times int
	// Code is the HTTP status of the error: 409, 429, 500 or 504.
	Code int
	// RetryAfterSeconds goes with 429.
	RetryAfterSeconds int
	// AfterWrite lets the request do its work and fails it afterwards, as a
	// timeout between server and client does: the write landed, the client
	// does not know.
	AfterWrite bool
}

type faultState struct {
	Fault
	fired int
}

type faults struct {
	mu    sync.Mutex
	rules []*faultState
}

// InjectFault adds a fault rule; the returned function removes it.
func (c *Cluster) InjectFault(f Fault) (remove func()) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	st := &faultState{Fault: f}
	c.faults.rules = append(c.faults.rules, st)
	return func() {
		c.faults.mu.Lock()
		defer c.faults.mu.Unlock()
		for i, r := range c.faults.rules {
			if r == st {
				c.faults.rules = append(c.faults.rules[:i], c.faults.rules[i+1:]...)
				return
			}
		}
	}
}

// FaultsFired returns how many requests the fault rules have failed.
func (c *Cluster) FaultsFired() int {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	n := 0
	for _, r := range c.faults.rules {
		n += r.fired
	}
	return n
}

func (f *faults) before(process, verb, kind string) error { return f.check(process, verb, kind, false) }
func (f *faults) after(process, verb, kind string) error  { return f.check(process, verb, kind, true) }

func (f *faults) check(process, verb, kind string, afterWrite bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.AfterWrite != afterWrite || (r.Process != "" && r.Process != process) || (r.Verb != "" && r.Verb != verb) || (r.Kind != "" && r.Kind != kind) {
			continue
		}
		if r.Times > 0 && r.fired >= r.Times {
			continue
		}
		r.fired++
		return faultError(r.Code, r.RetryAfterSeconds, kind)
	}
	return nil
}

func faultError(code, retryAfter int, kind string) error {
	gr := schema.GroupResource{Resource: kind}
	switch code {
	case 409:
		return apierrors.NewConflict(gr, "", fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	case 429:
		return apierrors.NewTooManyRequests("the server has received too many requests and has asked us to try again later", retryAfter)
	case 504:
		return apierrors.NewTimeoutError("the server was unable to return a response in the time allotted, but may still be processing the request", 0)
	default:
		return apierrors.NewInternalError(fmt.Errorf("injected fault"))
	}
}
