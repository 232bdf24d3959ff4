package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ci-operator-plugins/import-release/pkg/api"
	"github.com/ci-operator-plugins/import-release/pkg/graph"
	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

// requestKind is one kind of request: a verb on a kind, e.g. "create Pod".
type requestKind struct{ verb, kind string }

func (r requestKind) String() string { return r.verb + " " + r.kind }

// faultingClient wraps a client, names every request by verb and kind, and
// asks fail whether to fail it (nil: let it through).
func faultingClient(c ctrlruntimeclient.WithWatch, fail func(requestKind) error) ctrlruntimeclient.WithWatch {
	kindOf := func(obj runtime.Object) string {
		gvk, err := c.GroupVersionKindFor(obj)
		if err != nil {
			return fmt.Sprintf("%T", obj)
		}
		return strings.TrimSuffix(gvk.Kind, "List")
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		Get: func(ctx context.Context, c ctrlruntimeclient.WithWatch, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
			if err := fail(requestKind{"get", kindOf(obj)}); err != nil {
				return err
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c ctrlruntimeclient.WithWatch, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
			if err := fail(requestKind{"list", kindOf(list)}); err != nil {
				return err
			}
			return c.List(ctx, list, opts...)
		},
		Watch: func(ctx context.Context, c ctrlruntimeclient.WithWatch, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
			if err := fail(requestKind{"watch", kindOf(list)}); err != nil {
				return nil, err
			}
			return c.Watch(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
			if err := fail(requestKind{"create", kindOf(obj)}); err != nil {
				return err
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
			if err := fail(requestKind{"update", kindOf(obj)}); err != nil {
				return err
			}
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
			if err := fail(requestKind{"patch", kindOf(obj)}); err != nil {
				return err
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
		Apply: func(ctx context.Context, c ctrlruntimeclient.WithWatch, ac runtime.ApplyConfiguration, opts ...ctrlruntimeclient.ApplyOption) error {
			var tm metav1.TypeMeta
			data, _ := json.Marshal(ac)
			_ = json.Unmarshal(data, &tm)
			if err := fail(requestKind{"apply", tm.Kind}); err != nil {
				return err
			}
			return c.Apply(ctx, ac, opts...)
		},
		Delete: func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
			if err := fail(requestKind{"delete", kindOf(obj)}); err != nil {
				return err
			}
			return c.Delete(ctx, obj, opts...)
		},
	})
}

var injectedErrors = map[string]func() error{
	"429": func() error { return apierrors.NewTooManyRequests("slow down", 0) },
	"500": func() error { return apierrors.NewInternalError(errors.New("etcdserver: leader changed")) },
	"connection refused": func() error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	},
	"EOF": func() error { return io.ErrUnexpectedEOF },
}

// TestOneTransientErrorOnEveryRequestKind records the kinds of request a
// clean run makes and then fails the first request of each kind once with
// each transient error: the step succeeds every time. A new kind of request
// is covered as soon as the step makes it.
func TestOneTransientErrorOnEveryRequestKind(t *testing.T) {
	env := newTestEnv(t, 3, "latest")
	var mu sync.Mutex
	seen := map[requestKind]bool{}
	client := faultingClient(env.cluster.Client("shard-0"), func(r requestKind) error {
		mu.Lock()
		defer mu.Unlock()
		seen[r] = true
		return nil
	})
	if err := env.stepWithClient(client, "latest").Run(t.Context()); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	var kinds []requestKind
	for r := range seen {
		kinds = append(kinds, r)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	if len(kinds) < 8 {
		t.Fatalf("a clean run made only %d kinds of request: %v", len(kinds), kinds)
	}
	for _, kind := range kinds {
		for name, injected := range injectedErrors {
			t.Run(kind.String()+" "+name, func(t *testing.T) {
				env := newTestEnv(t, 3, "latest")
				var fired int
				var mu sync.Mutex
				client := faultingClient(env.cluster.Client("shard-0"), func(r requestKind) error {
					mu.Lock()
					defer mu.Unlock()
					if r == kind && fired == 0 {
						fired++
						return injected()
					}
					return nil
				})
				if err := env.stepWithClient(client, "latest").Run(t.Context()); err != nil {
					t.Fatalf("Run failed: %v", err)
				}
				if fired != 1 {
					t.Errorf("the fault fired %d times, want 1", fired)
				}
			})
		}
	}
}

// TestHalfOfAllRequestsThrottled runs 8 shards while half of all requests
// (chosen at random) get 429 for the first 2 seconds: every shard succeeds
// and the work is done once.
func TestHalfOfAllRequestsThrottled(t *testing.T) {
	env := newTestEnv(t, faultImages, "latest")
	const shards = 8
	start := time.Now()
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	throttled := 0
	fail := func(requestKind) error {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(start) < 2*time.Second && rng.IntN(2) == 0 {
			throttled++
			return apierrors.NewTooManyRequests("the server has received too many requests", 1)
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, shards)
	for i := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := faultingClient(env.cluster.Client(fmt.Sprintf("shard-%d", i)), fail)
			g, err := graph.Build([]api.Step{env.stepWithClient(client, "latest")})
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = g.Run(t.Context())
		}()
	}
	wg.Wait()
	succeeded := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("shard-%d failed: %v", i, err)
			continue
		}
		succeeded++
	}
	if succeeded != shards {
		t.Errorf("%d of %d shards succeeded", succeeded, shards)
	}
	if throttled == 0 {
		t.Error("no request was throttled")
	}
	t.Logf("%d requests throttled", throttled)
	assertWorkOnce(t, env, "latest")
}

// TestTransientErrorsAreRetriedByOnePolicy fails every request of one kind
// with 500 and counts the attempts: the client's retry policy (here 3
// attempts) is the only one, so the step gives up after exactly 3 requests
// of that kind instead of multiplying them with retries of its own.
func TestTransientErrorsAreRetriedByOnePolicy(t *testing.T) {
	const attempts = 3
	// A run reads the payload record through one list+watch of it.
	for _, kind := range []requestKind{{"list", "Lease"}, {"apply", "ImageStream"}, {"create", "Pod"}} {
		t.Run(kind.String(), func(t *testing.T) {
			env := newTestEnv(t, 3, "latest")
			var mu sync.Mutex
			fired := 0
			faulting := faultingClient(env.cluster.Client("shard-0"), func(r requestKind) error {
				mu.Lock()
				defer mu.Unlock()
				if r == kind {
					fired++
					return injectedErrors["500"]()
				}
				return nil
			})
			client := apiretry.NewClient(faulting, wait.Backoff{Steps: attempts, Duration: time.Millisecond})
			err := env.stepWithClient(client, "latest").Run(t.Context())
			if !apierrors.IsInternalError(err) {
				t.Fatalf("Run: got %v, want the internal error", err)
			}
			if fired != attempts {
				t.Errorf("%s was sent %d times, want %d", kind, fired, attempts)
			}
		})
	}
}

// TestTheStepsClientIsNotWrappedAgain: the step's shared-watch client sends
// what it does not answer itself through the step's apiretry client, so the
// waits (which wrap the client they are given) retry nothing twice.
func TestTheStepsClientIsNotWrappedAgain(t *testing.T) {
	env := newTestEnv(t, 1, "latest")
	step := env.step("shard-0", "latest").(*importReleaseStep)
	var c ctrlruntimeclient.WithWatch = step.client
	if got := apiretry.NewClient(c, apiretry.DefaultBackoff); got != c {
		t.Errorf("apiretry.NewClient wrapped the step's client again: %T", got)
	}
}
