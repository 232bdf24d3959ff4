package fakeopenshift

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/openshift/api/image/v1"
)

// tagFroms renders a stream's spec tags as "name=from" in stored order.
func tagFroms(is *imagev1.ImageStream) string {
	var out []string
	for _, tag := range is.Spec.Tags {
		from := "<nil>"
		if tag.From != nil {
			from = tag.From.Name
		}
		out = append(out, tag.Name+"="+from)
	}
	return strings.Join(out, " ")
}

// managers lists the managers of an object's managedFields with their
// operation, in stored order.
func managers(obj metav1.Object) string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		out = append(out, fmt.Sprintf("%s/%s", mf.Manager, mf.Operation))
	}
	return strings.Join(out, " ")
}

// ownsTag reports whether manager's managedFields entry claims the from of
// the named tag.
func ownsTag(t *testing.T, is *imagev1.ImageStream, manager, tag string) bool {
	t.Helper()
	for _, mf := range is.ManagedFields {
		if mf.Manager != manager || mf.FieldsV1 == nil {
			continue
		}
		var fields map[string]map[string]map[string]map[string]any
		if err := json.Unmarshal(mf.FieldsV1.Raw, &fields); err != nil {
			t.Fatalf("cannot decode managedFields of %s: %v", manager, err)
		}
		if _, ok := fields["f:spec"]["f:tags"][fmt.Sprintf(`k:{"name":%q}`, tag)]["f:from"]; ok {
			return true
		}
	}
	return false
}

// TestServerSideApply runs the apply scenarios TESTING.md measured on a real
// apiserver, step by step on one stream: each step is one apply and what the
// stream looks like afterwards.
func TestServerSideApply(t *testing.T) {
	type step struct {
		name    string
		manager string
		force   bool
		tags    map[string]string // tag -> from.name, applied in sorted order
		order   []string          // when set, the order the tags are applied in
		dupe    bool              // apply the first tag twice
		wantErr func(error) bool
		// wantErrText must appear in the error.
		wantErrText []string
		wantTags    string
		wantGen     int64
		wantWrite   bool
		check       func(t *testing.T, is *imagev1.ImageStream)
	}
	steps := []step{
		{
			name: "manager-a creates the stream", manager: "manager-a",
			tags: map[string]string{"a2": "quay.io/a/a2:1", "a1": "quay.io/a/a1:1"}, order: []string{"a2", "a1"},
			wantTags: "a1=quay.io/a/a1:1 a2=quay.io/a/a2:1", wantGen: 1, wantWrite: true,
			check: func(t *testing.T, is *imagev1.ImageStream) {
				if got := managers(is); got != "manager-a/Apply" {
					t.Errorf("managers %q, want manager-a/Apply", got)
				}
			},
		},
		{
			name: "manager-b adds its tag, merged by name", manager: "manager-b",
			tags:     map[string]string{"b1": "quay.io/b/b1:1"},
			wantTags: "a1=quay.io/a/a1:1 a2=quay.io/a/a2:1 b1=quay.io/b/b1:1", wantGen: 2, wantWrite: true,
			check: func(t *testing.T, is *imagev1.ImageStream) {
				if got := managers(is); got != "manager-a/Apply manager-b/Apply" {
					t.Errorf("managers %q, want both appliers", got)
				}
				if !ownsTag(t, is, "manager-a", "a1") || !ownsTag(t, is, "manager-b", "b1") || ownsTag(t, is, "manager-b", "a1") {
					t.Errorf("ownership wrong: %+v", is.ManagedFields)
				}
			},
		},
		{
			name: "identical re-apply by manager-a is a no-op", manager: "manager-a",
			tags:     map[string]string{"a1": "quay.io/a/a1:1", "a2": "quay.io/a/a2:1"},
			wantTags: "a1=quay.io/a/a1:1 a2=quay.io/a/a2:1 b1=quay.io/b/b1:1", wantGen: 2,
		},
		{
			name: "manager-b changing manager-a's tag conflicts", manager: "manager-b",
			tags:        map[string]string{"b1": "quay.io/b/b1:1", "a1": "quay.io/b/a1:2"},
			wantErr:     apierrors.IsConflict,
			wantErrText: []string{`conflict with "manager-a"`, `.spec.tags[name="a1"].from`},
			wantTags:    "a1=quay.io/a/a1:1 a2=quay.io/a/a2:1 b1=quay.io/b/b1:1", wantGen: 2,
		},
		{
			name: "manager-b forces and takes ownership", manager: "manager-b", force: true,
			tags:     map[string]string{"b1": "quay.io/b/b1:1", "a1": "quay.io/b/a1:2"},
			wantTags: "a1=quay.io/b/a1:2 a2=quay.io/a/a2:1 b1=quay.io/b/b1:1", wantGen: 3, wantWrite: true,
			check: func(t *testing.T, is *imagev1.ImageStream) {
				if ownsTag(t, is, "manager-a", "a1") || !ownsTag(t, is, "manager-b", "a1") {
					t.Errorf("manager-b does not own a1's from alone: %+v", is.ManagedFields)
				}
			},
		},
		{
			name: "manager-a now conflicts with manager-b", manager: "manager-a",
			tags:        map[string]string{"a1": "quay.io/a/a1:1", "a2": "quay.io/a/a2:1"},
			wantErr:     apierrors.IsConflict,
			wantErrText: []string{`conflict with "manager-b"`, `.spec.tags[name="a1"].from`},
			wantTags:    "a1=quay.io/b/a1:2 a2=quay.io/a/a2:1 b1=quay.io/b/b1:1", wantGen: 3,
		},
		{
			name: "manager-a stops applying a2, which goes; manager-b's tags stay", manager: "manager-a",
			tags:     map[string]string{"a3": "quay.io/a/a3:1"},
			wantTags: "a1=quay.io/b/a1:2 a3=quay.io/a/a3:1 b1=quay.io/b/b1:1", wantGen: 4, wantWrite: true,
			check: func(t *testing.T, is *imagev1.ImageStream) {
				// Removing a tag bumps the stream but leaves the other tags'
				// generations alone; the new tag gets the new generation.
				for tag, want := range map[string]int64{"a1": 3, "b1": 2, "a3": 4} {
					if got := tagGeneration(t, is, tag); got != want {
						t.Errorf("tag %s generation %d, want %d", tag, got, want)
					}
				}
			},
		},
		{
			name: "duplicate tag names are rejected", manager: "manager-a",
			tags: map[string]string{"a3": "quay.io/a/a3:1"}, dupe: true,
			wantErr: func(err error) bool {
				status, ok := err.(apierrors.APIStatus)
				return ok && status.Status().Code == http.StatusInternalServerError
			},
			wantErrText: []string{`.spec.tags: duplicate entries for key [name="a3"]`},
			wantTags:    "a1=quay.io/b/a1:2 a3=quay.io/a/a3:1 b1=quay.io/b/b1:1", wantGen: 4,
		},
	}

	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	rv := ""
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			order := s.order
			if order == nil {
				for name := range s.tags {
					order = append(order, name)
				}
				slices.Sort(order)
			}
			ac := streamApply("stream")
			for _, name := range order {
				ac.Spec.WithTags(tagApply(name, s.tags[name]))
			}
			if s.dupe {
				ac.Spec.WithTags(tagApply(order[0], s.tags[order[0]]))
			}
			err := applyAs(ctx, cl, ac, s.manager, s.force)
			switch {
			case s.wantErr == nil && err != nil:
				t.Fatalf("apply: %v", err)
			case s.wantErr != nil && !s.wantErr(err):
				t.Fatalf("got %v, want a different error", err)
			}
			for _, text := range s.wantErrText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not say %q", err, text)
				}
			}
			is := getStream(t, cl, "stream")
			if got := tagFroms(is); got != s.wantTags {
				t.Errorf("tags %q, want %q", got, s.wantTags)
			}
			if is.Generation != s.wantGen {
				t.Errorf("generation %d, want %d", is.Generation, s.wantGen)
			}
			if wrote := is.ResourceVersion != rv; wrote != s.wantWrite {
				t.Errorf("resourceVersion %s -> %s, want a write: %t", rv, is.ResourceVersion, s.wantWrite)
			}
			if err == nil && *ac.ResourceVersion != is.ResourceVersion {
				t.Errorf("apply returned resourceVersion %s, stored %s", *ac.ResourceVersion, is.ResourceVersion)
			}
			rv = is.ResourceVersion
			if s.check != nil {
				s.check(t, is)
			}
		})
	}
}

// TestServerSideApplyConfigMap: apply works on core kinds too, with the same
// no-op rule, and an Update by another manager shares the object.
func TestServerSideApplyConfigMap(t *testing.T) {
	ctx := t.Context()
	cl := newStoreOnlyCluster(t).Client("test")
	cm := testConfigMap("cm", nil)
	apply := func(data map[string]string) *corev1.ConfigMap {
		t.Helper()
		ac := corev1apply.ConfigMap("cm", testNamespace).WithData(data)
		if err := cl.Apply(ctx, ac, ctrlruntimeclient.FieldOwner("applier")); err != nil {
			t.Fatalf("apply: %v", err)
		}
		if err := cl.Get(ctx, key("cm"), cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	first := apply(map[string]string{"a": "1"}).ResourceVersion
	if again := apply(map[string]string{"a": "1"}).ResourceVersion; again != first {
		t.Errorf("identical apply: resourceVersion %s -> %s", first, again)
	}
	cm.Data["b"] = "2"
	if err := cl.Update(ctx, cm, ctrlruntimeclient.FieldOwner("updater")); err != nil {
		t.Fatal(err)
	}
	// The applier drops nothing it does not own: b stays.
	got := apply(map[string]string{"a": "3"})
	if got.Data["a"] != "3" || got.Data["b"] != "2" {
		t.Errorf("data %v, want a=3 b=2", got.Data)
	}
	if m := managers(got); m != "applier/Apply updater/Update" {
		t.Errorf("managers %q", m)
	}
	if got.Generation != 0 {
		t.Errorf("configmap generation %d, want 0", got.Generation)
	}
}
