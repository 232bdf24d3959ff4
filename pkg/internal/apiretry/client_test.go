package apiretry_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/internal/apiretry"
)

var fastBackoff = wait.Backoff{Duration: time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 5, Cap: 10 * time.Millisecond}

func refused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func TestIsRetriable(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	testCases := []struct {
		name string
		err  error
		want bool
	}{
		{name: "429", err: apierrors.NewTooManyRequests("slow down", 1), want: true},
		{name: "500", err: apierrors.NewInternalError(errors.New("boom")), want: true},
		{name: "502", err: apierrors.NewGenericServerResponse(502, "get", gr, "x", "bad gateway", 0, true), want: true},
		{name: "503", err: apierrors.NewServiceUnavailable("down"), want: true},
		{name: "504", err: apierrors.NewTimeoutError("late", 0), want: true},
		{name: "connection refused", err: refused(), want: true},
		{name: "connection reset", err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, want: true},
		{name: "EOF", err: io.EOF, want: true},
		{name: "wrapped unexpected EOF", err: &os.PathError{Op: "read", Path: "x", Err: io.ErrUnexpectedEOF}, want: true},
		{name: "409", err: apierrors.NewConflict(gr, "x", errors.New("modified"))},
		{name: "404", err: apierrors.NewNotFound(gr, "x")},
		{name: "403", err: apierrors.NewForbidden(gr, "x", errors.New("no"))},
		{name: "422", err: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", nil)},
		{name: "context canceled", err: context.Canceled},
		{name: "deadline", err: context.DeadlineExceeded},
		{name: "not an API error", err: errors.New("boom")},
		{name: "nil"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := apiretry.IsRetriable(tc.err); got != tc.want {
				t.Errorf("IsRetriable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	b := wait.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 10, Cap: 50 * time.Millisecond}
	for attempt, base := range []time.Duration{10, 20, 40, 50, 50} {
		base *= time.Millisecond
		for range 20 {
			if got := apiretry.Delay(b, attempt, errors.New("x")); got < base || got > base*3/2 {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, got, base, base*3/2)
			}
		}
	}
	if got := apiretry.Delay(b, 0, apierrors.NewTooManyRequests("slow down", 2)); got != 2*time.Second {
		t.Errorf("Retry-After 2: delay %s, want 2s", got)
	}
}

func TestDoStops(t *testing.T) {
	t.Run("after Steps attempts", func(t *testing.T) {
		calls := 0
		err := apiretry.Do(t.Context(), fastBackoff, func() error { calls++; return io.EOF })
		if !errors.Is(err, io.EOF) || calls != fastBackoff.Steps {
			t.Errorf("got %v after %d calls, want EOF after %d", err, calls, fastBackoff.Steps)
		}
	})
	t.Run("when the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := apiretry.Do(ctx, wait.Backoff{Duration: time.Hour, Steps: 5}, func() error { calls++; cancel(); return io.EOF })
		if !errors.Is(err, io.EOF) || !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("got %v after %d calls, want EOF and Canceled after 1", err, calls)
		}
	})
}

// seeded returns a client of a fake cluster holding the ConfigMap ns/seed.
func seeded(t *testing.T) ctrlruntimeclient.WithWatch {
	cluster := fakeopenshift.New(t.Context(), fakeopenshift.WithLatency(fakeopenshift.Latency{}))
	t.Cleanup(cluster.Stop)
	c := cluster.Client("test")
	if err := c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "seed"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// failOnce returns an interceptor function body that fails the first call
// with err and lets the rest through.
type failOnce struct {
	err   error
	calls int
}

func (f *failOnce) next() error {
	f.calls++
	if f.calls == 1 {
		return f.err
	}
	return nil
}

func TestClientRetriesEveryVerbOnce(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	errs := map[string]error{
		"429":                apierrors.NewTooManyRequests("slow down", 0),
		"500":                apierrors.NewInternalError(errors.New("boom")),
		"connection refused": refused(),
		"EOF":                io.EOF,
	}
	type call func(ctx context.Context, c ctrlruntimeclient.WithWatch) error
	cm := func() *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm"}, Data: map[string]string{"a": "b"}}
	}
	verbs := map[string]call{
		"get": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			return c.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: "ns", Name: "seed"}, &corev1.ConfigMap{})
		},
		"list": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			return c.List(ctx, &corev1.ConfigMapList{}, ctrlruntimeclient.InNamespace("ns"))
		},
		"watch": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			w, err := c.Watch(ctx, &corev1.ConfigMapList{}, ctrlruntimeclient.InNamespace("ns"))
			if err == nil {
				w.Stop()
			}
			return err
		},
		"create": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error { return c.Create(ctx, cm()) },
		"update": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			seed := &corev1.ConfigMap{}
			if err := c.Get(ctx, ctrlruntimeclient.ObjectKey{Namespace: "ns", Name: "seed"}, seed); err != nil {
				return err
			}
			seed.Data = map[string]string{"c": "d"}
			return c.Update(ctx, seed)
		},
		"patch": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			seed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "seed"}}
			return c.Patch(ctx, seed, ctrlruntimeclient.RawPatch("application/merge-patch+json", []byte(`{"data":{"e":"f"}}`)))
		},
		"delete": func(ctx context.Context, c ctrlruntimeclient.WithWatch) error {
			return c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "seed"}})
		},
	}
	for errName, injected := range errs {
		for verb, do := range verbs {
			t.Run(verb+" "+errName, func(t *testing.T) {
				f := &failOnce{err: injected}
				base := interceptor.NewClient(seeded(t), interceptVerb(verb, f))
				if err := do(t.Context(), apiretry.NewClient(base, fastBackoff)); err != nil {
					t.Fatalf("%s failed: %v", verb, err)
				}
				if f.calls != 2 {
					t.Errorf("%s reached the server %d times, want 2", verb, f.calls)
				}
			})
		}
	}
	t.Run("conflict is not retried", func(t *testing.T) {
		f := &failOnce{err: apierrors.NewConflict(gr, "cm", errors.New("modified"))}
		base := interceptor.NewClient(seeded(t), interceptVerb("create", f))
		if err := verbs["create"](t.Context(), apiretry.NewClient(base, fastBackoff)); !apierrors.IsConflict(err) || f.calls != 1 {
			t.Errorf("got %v after %d calls, want a conflict after 1", err, f.calls)
		}
	})
}

// interceptVerb fails the requests of one verb as f says.
func interceptVerb(verb string, f *failOnce) interceptor.Funcs {
	funcs := interceptor.Funcs{}
	switch verb {
	case "get":
		funcs.Get = func(ctx context.Context, c ctrlruntimeclient.WithWatch, key ctrlruntimeclient.ObjectKey, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.GetOption) error {
			if err := f.next(); err != nil {
				return err
			}
			return c.Get(ctx, key, obj, opts...)
		}
	case "list":
		funcs.List = func(ctx context.Context, c ctrlruntimeclient.WithWatch, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) error {
			if err := f.next(); err != nil {
				return err
			}
			return c.List(ctx, list, opts...)
		}
	case "watch":
		funcs.Watch = func(ctx context.Context, c ctrlruntimeclient.WithWatch, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
			if err := f.next(); err != nil {
				return nil, err
			}
			return c.Watch(ctx, list, opts...)
		}
	case "create":
		funcs.Create = func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.CreateOption) error {
			if err := f.next(); err != nil {
				// As a write whose answer was lost half-way: the object is
				// changed, the request failed.
				obj.SetResourceVersion("999")
				return err
			}
			return c.Create(ctx, obj, opts...)
		}
	case "update":
		funcs.Update = func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.UpdateOption) error {
			if err := f.next(); err != nil {
				return err
			}
			return c.Update(ctx, obj, opts...)
		}
	case "patch":
		funcs.Patch = func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.PatchOption) error {
			if err := f.next(); err != nil {
				return err
			}
			return c.Patch(ctx, obj, patch, opts...)
		}
	case "delete":
		funcs.Delete = func(ctx context.Context, c ctrlruntimeclient.WithWatch, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.DeleteOption) error {
			if err := f.next(); err != nil {
				return err
			}
			return c.Delete(ctx, obj, opts...)
		}
	}
	return funcs
}

func TestClientApplyResendsTheIntent(t *testing.T) {
	var sent []string
	base := interceptor.NewClient(seeded(t), interceptor.Funcs{
		Apply: func(_ context.Context, _ ctrlruntimeclient.WithWatch, obj runtime.ApplyConfiguration, _ ...ctrlruntimeclient.ApplyOption) error {
			ac := obj.(*corev1apply.ConfigMapApplyConfiguration)
			sent = append(sent, *ac.Name+"/"+ac.Data["a"]+"/"+ptrString(ac.ResourceVersion))
			// What a decoded answer would leave behind.
			ac.WithResourceVersion("7").WithData(map[string]string{"server": "side"})
			if len(sent) == 1 {
				return io.ErrUnexpectedEOF
			}
			return nil
		},
	})
	ac := corev1apply.ConfigMap("cm", "ns").WithData(map[string]string{"a": "b"})
	if err := apiretry.NewClient(base, fastBackoff).Apply(t.Context(), ac, ctrlruntimeclient.FieldOwner("test")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cm/b/", "cm/b/"}, sent); diff != "" {
		t.Errorf("sent apply configurations differ (-want +got):\n%s", diff)
	}
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestNewClientWrapsOnce(t *testing.T) {
	base := seeded(t)
	once := apiretry.NewClient(base, fastBackoff)
	if twice := apiretry.NewClient(once, fastBackoff); twice != once {
		t.Error("a retrying client was wrapped again")
	}
	over := decorated{once}
	if got := apiretry.NewClient(over, fastBackoff); got != over {
		t.Error("a client that says it retries was wrapped again")
	}
	if apiretry.NewClient(nil, fastBackoff) != nil {
		t.Error("a nil client did not stay nil")
	}
}

// decorated stands for a decorator over a retrying client that says so.
type decorated struct{ ctrlruntimeclient.WithWatch }

func (decorated) RetriesTransientErrors() {}
