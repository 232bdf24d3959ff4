package fakeopenshift

import (
	"context"
	"encoding/json"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// request is one client request on its way through the fake apiserver. It
// is accounted in Stats.Calls when it ends, with what the server did.
type request struct {
	client  *client
	verb    string
	kind    string
	manager string
	body    int
	wrote   bool
}

// end records what a write did and applies the faults that strike after
// the write landed (a timeout the client sees although the server wrote).
func (r *request) end(res writeResult, err error) error {
	if res.changed {
		r.wrote = true
	}
	if err != nil {
		return asAPIError(err)
	}
	return r.client.cluster.faults.after(r.client.process, r.verb, r.kind)
}

// finish accounts for the request with its outcome; *errp is the error the
// client got. It is safe on a nil request (one that was never sent).
func (r *request) finish(errp *error) {
	if r == nil {
		return
	}
	var err error
	if errp != nil {
		err = *errp
	}
	call := Call{Process: r.client.process, Verb: r.verb, Kind: r.kind, Manager: r.manager, Outcome: outcomeOf(r.verb, r.wrote, err)}
	r.client.cluster.stats.call(call, r.body)
}

// outcomeOf classifies a request by what the server did: a write that
// landed is written even when the client got an error afterwards.
func outcomeOf(verb string, wrote bool, err error) Outcome {
	switch {
	case wrote:
		return OutcomeWritten
	case err == nil && (Call{Verb: verb}).Mutating():
		return OutcomeNoOp
	case err == nil:
		return OutcomeRead
	case apierrors.IsConflict(err):
		return OutcomeConflict
	case apierrors.IsAlreadyExists(err):
		return OutcomeAlreadyExists
	case apierrors.IsNotFound(err):
		return OutcomeNotFound
	}
	return OutcomeError
}

// bodySize is the size of obj as a request body.
func bodySize(obj runtime.Object) int {
	data, err := json.Marshal(obj)
	if err != nil {
		return 0
	}
	return len(data)
}

// sleep waits for d or until ctx is done. The fake keeps its own, so that
// its latencies do not depend on the production retry code.
func sleep(ctx context.Context, d time.Duration) error {
	timeout, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	<-timeout.Done()
	return ctx.Err()
}

// delivered accounts for a watch event the process received.
func (c *client) delivered(_ watch.Event, size int) {
	c.cluster.stats.watchEvent(c.process, size)
}
