package fakeopenshift

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// TestInjectFault: a fault fails the matching requests, as many times as
// asked, with the error a real apiserver returns for its code.
func TestInjectFault(t *testing.T) {
	testCases := []struct {
		name    string
		fault   Fault
		request func(cl ctrlruntimeclient.Client) error
		wantErr func(error) bool
	}{
		{name: "409 on update", fault: Fault{Process: "victim", Verb: "update", Kind: "ConfigMap", Code: 409},
			wantErr: apierrors.IsConflict, request: func(cl ctrlruntimeclient.Client) error {
				cm := &corev1.ConfigMap{}
				if err := cl.Get(t.Context(), key("cm"), cm); err != nil {
					return err
				}
				cm.Data = map[string]string{"changed": "true"}
				return cl.Update(t.Context(), cm)
			}},
		{name: "429 on get", fault: Fault{Verb: "get", Code: 429, RetryAfterSeconds: 3},
			wantErr: func(err error) bool {
				delay, ok := apierrors.SuggestsClientDelay(err)
				return apierrors.IsTooManyRequests(err) && ok && delay == 3
			}, request: func(cl ctrlruntimeclient.Client) error {
				return cl.Get(t.Context(), key("cm"), &corev1.ConfigMap{})
			}},
		{name: "500 on list", fault: Fault{Verb: "list", Kind: "ConfigMap", Code: 500},
			wantErr: apierrors.IsInternalError, request: func(cl ctrlruntimeclient.Client) error {
				return cl.List(t.Context(), &corev1.ConfigMapList{})
			}},
		{name: "504 on create", fault: Fault{Verb: "create", Code: 504},
			wantErr: apierrors.IsTimeout, request: func(cl ctrlruntimeclient.Client) error {
				return cl.Create(t.Context(), testConfigMap("other", nil))
			}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newStoreOnlyCluster(t)
			if err := c.Client("setup").Create(t.Context(), testConfigMap("cm", nil)); err != nil {
				t.Fatal(err)
			}
			fault := tc.fault
			fault.Times = 2
			remove := c.InjectFault(fault)
			victim := c.Client("victim")
			for i := range 2 {
				if err := tc.request(victim); !tc.wantErr(err) {
					t.Fatalf("request %d: got %v, want the injected error", i, err)
				}
			}
			if n := c.FaultsFired(); n != 2 {
				t.Errorf("FaultsFired = %d, want 2", n)
			}
			// Times is spent: the next request goes through.
			if err := tc.request(victim); err != nil {
				t.Errorf("after the fault's Times: %v", err)
			}
			remove()
		})
	}

	t.Run("matching", func(t *testing.T) {
		c := newStoreOnlyCluster(t)
		defer c.InjectFault(Fault{Process: "victim", Verb: "create", Kind: "ConfigMap", Code: 500})()
		if err := c.Client("bystander").Create(t.Context(), testConfigMap("a", nil)); err != nil {
			t.Errorf("another process: %v", err)
		}
		if err := c.Client("victim").Create(t.Context(), testPod("pod")); err != nil {
			t.Errorf("another kind: %v", err)
		}
		if err := c.Client("victim").Get(t.Context(), key("a"), &corev1.ConfigMap{}); err != nil {
			t.Errorf("another verb: %v", err)
		}
		if err := c.Client("victim").Create(t.Context(), testConfigMap("b", nil)); !apierrors.IsInternalError(err) {
			t.Errorf("the matching request: got %v, want 500", err)
		}
	})

	t.Run("after the write", func(t *testing.T) {
		c := newStoreOnlyCluster(t)
		defer c.InjectFault(Fault{Verb: "create", Code: 504, AfterWrite: true, Times: 1})()
		cl := c.Client("victim")
		cm := testConfigMap("cm", nil)
		if err := cl.Create(t.Context(), cm); !apierrors.IsTimeout(err) {
			t.Fatalf("got %v, want a timeout", err)
		}
		// A client decodes nothing from an error response: the object is
		// as the caller built it, so retrying the same object is possible.
		if cm.ResourceVersion != "" || cm.UID != "" {
			t.Errorf("the failed create filled in the caller's object: resourceVersion %q, uid %q", cm.ResourceVersion, cm.UID)
		}
		// The write landed although the client saw an error.
		if err := cl.Get(t.Context(), key("cm"), &corev1.ConfigMap{}); err != nil {
			t.Errorf("the write did not land: %v", err)
		}
		if err := cl.Create(t.Context(), cm); !apierrors.IsAlreadyExists(err) {
			t.Errorf("retrying the create: got %v, want AlreadyExists", err)
		}
		if n := c.Stats().Writes[RequestKey{"victim", "create", "ConfigMap"}]; n != 1 {
			t.Errorf("%d writes counted, want 1", n)
		}
	})
}

// TestStatsAccounting: requests are counted per process, verb and kind;
// writes only when they change something.
func TestStatsAccounting(t *testing.T) {
	ctx := t.Context()
	c := newStoreOnlyCluster(t)
	cl := c.Client("p1")
	cm := testConfigMap("cm", map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := cl.Update(ctx, cm); err != nil { // identical: no write
			t.Fatal(err)
		}
	}
	if err := c.Client("p2").Get(ctx, key("cm"), &corev1.ConfigMap{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Client("p2").Create(ctx, testPod("pod")); err != nil {
		t.Fatal(err)
	}
	stats := c.Stats()
	wantRequests := map[RequestKey]int{
		{"p1", "create", "ConfigMap"}: 1, {"p1", "update", "ConfigMap"}: 2,
		{"p2", "get", "ConfigMap"}: 1, {"p2", "create", "Pod"}: 1,
	}
	for k, want := range wantRequests {
		if got := stats.Requests[k]; got != want {
			t.Errorf("requests %v = %d, want %d", k, got, want)
		}
	}
	if n := stats.WritesBy(func(p string) bool { return p == "p1" }); n != 1 {
		t.Errorf("p1 wrote %d times, want 1", n)
	}
	if n := stats.RequestsBy(func(p string) bool { return p != "" }); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
	if stats.PodsCreated[testNamespace+"/pod"] != 1 {
		t.Errorf("PodsCreated %v", stats.PodsCreated)
	}
	report := stats.Report()
	for _, line := range []string{"requests p1 update ConfigMap = 2", "writes p1 create ConfigMap = 1", "pods-created ci-op-test/pod = 1", "import-conflicts = 0"} {
		if !strings.Contains(report, line+"\n") {
			t.Errorf("report lacks %q:\n%s", line, report)
		}
	}
	// Stats is a copy.
	stats.Requests[RequestKey{"p1", "create", "ConfigMap"}] = 99
	if c.Stats().Requests[RequestKey{"p1", "create", "ConfigMap"}] != 1 {
		t.Error("Stats returned the live counters")
	}
}
