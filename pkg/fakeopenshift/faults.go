package fakeopenshift

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

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
	// Probability, between 0 and 1, fails only that share of the matching
	// requests, drawn from the cluster's random source (see WithSeed); 0
	// means every one.
	Probability float64
	// Start and Duration limit the fault to a window of time after it is
	// injected: from Start on, for Duration (0: no end).
	Start, Duration time.Duration
	// Code is the HTTP status of the error: 409, 429, 500 or 504.
	Code int
	// RetryAfterSeconds goes with 429.
	RetryAfterSeconds int
	// ClientError, instead of an answer from the server, fails the request
	// as the client's transport does: ConnectionRefused or EOF.
	ClientError ClientError
	// AfterWrite lets the request do its work and fails it afterwards, as a
	// timeout between server and client does: the write landed, the client
	// does not know.
	AfterWrite bool
}

// ClientError is an error a client sees without an answer from the server.
type ClientError string

const (
	// ConnectionRefused is a dial error: nothing listens (an apiserver
	// restarting). The request never reached the server.
	ConnectionRefused ClientError = "ConnectionRefused"
	// EOF is a connection closed before the answer came (a load balancer
	// dropping it). With AfterWrite the write landed.
	EOF ClientError = "EOF"
)

type faultState struct {
	Fault
	injected time.Time
	fired    int
}

type faults struct {
	mu    sync.Mutex
	rules []*faultState
	rand  *rand.Rand
	now   func() time.Time
}

func newFaults(seed uint64, now func() time.Time) *faults {
	return &faults{rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now}
}

// WithSeed seeds the random source of probabilistic faults, so that a run
// with the same requests in the same order fails the same ones.
func WithSeed(seed uint64) Option { return func(o *Options) { o.Seed = seed } }

// InjectFault adds a fault rule; the returned function removes it.
func (c *Cluster) InjectFault(f Fault) (remove func()) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	st := &faultState{Fault: f, injected: c.faults.now()}
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
	now := f.now()
	for _, r := range f.rules {
		if !r.matches(process, verb, kind, afterWrite, now) {
			continue
		}
		if r.Probability > 0 && f.rand.Float64() >= r.Probability {
			continue
		}
		r.fired++
		if r.ClientError != "" {
			return clientError(r.ClientError, verb, kind)
		}
		return faultError(r.Code, r.RetryAfterSeconds, kind)
	}
	return nil
}

func (r *faultState) matches(process, verb, kind string, afterWrite bool, now time.Time) bool {
	if r.AfterWrite != afterWrite || (r.Process != "" && r.Process != process) || (r.Verb != "" && r.Verb != verb) || (r.Kind != "" && r.Kind != kind) {
		return false
	}
	if r.Times > 0 && r.fired >= r.Times {
		return false
	}
	since := now.Sub(r.injected)
	return since >= r.Start && (r.Duration == 0 || since < r.Start+r.Duration)
}

// clientError is what client-go returns when the transport fails: a
// *url.Error around the cause.
func clientError(e ClientError, verb, kind string) error {
	u := "https://api.fake-cluster.test:6443/" + kind
	switch e {
	case ConnectionRefused:
		return &url.Error{Op: verb, URL: u, Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	default:
		return &url.Error{Op: verb, URL: u, Err: io.EOF}
	}
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
