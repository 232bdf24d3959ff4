package fakeopenshift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/workqueue"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift/registry"
)

// ImageStreamImport is a virtual, synchronous resource (openshift-apiserver
// pkg/image/apiserver/registry/imagestreamimport/rest.go). A POST resolves
// every image against the registry, then, when spec.import is true, writes
// the results into the stream with the resourceVersion it read before
// resolving: a write to the stream in between makes the whole import fail
// with 409, which is what starves large imports under concurrent writers.
//
// For each image with a target tag:
//   - success: when the tag changed (new image, spec generation ahead of the
//     newest status entry, a different from or importPolicy, or a failure
//     recorded), the spec tag takes the import's from and importPolicy (and
//     its referencePolicy when the tag has none), its generation is reset so
//     the stream and the tag move to generation G+1, the status entry is
//     prepended (or, for the same image, its generation updated) and the
//     conditions are cleared;
//   - failure: the tag's conditions become one ImportSuccess=False with the
//     reason and message and generation G+1; the spec tag is created if it
//     is missing; an identical failure already recorded writes nothing.
//
// When nothing changed, nothing is written: no resourceVersion, no event.

type importResult struct {
	writeResult
	isi *imagev1.ImageStreamImport
}

var imageStreamImportResource = imagev1.Resource("imagestreamimports")

// ControllerProcess is the process name the import controller's requests are
// accounted under.
const ControllerProcess = "openshift-controller-manager"

func validateImport(isi *imagev1.ImageStreamImport) error {
	var errs field.ErrorList
	images := field.NewPath("spec", "images")
	if len(isi.Spec.Images) == 0 {
		errs = append(errs, field.Required(images, "you must specify at least one image; repository imports are not supported by the fake"))
	}
	for i, img := range isi.Spec.Images {
		p := images.Index(i)
		if img.From.Kind != "DockerImage" {
			errs = append(errs, field.NotSupported(p.Child("from", "kind"), img.From.Kind, []string{"DockerImage"}))
			continue
		}
		if _, _, _, err := registry.ParsePullSpec(img.From.Name); err != nil {
			errs = append(errs, field.Invalid(p.Child("from", "name"), img.From.Name, err.Error()))
		}
		switch img.ImportPolicy.ImportMode {
		case "", imagev1.ImportModeLegacy, imagev1.ImportModePreserveOriginal:
		default:
			errs = append(errs, field.NotSupported(p.Child("importPolicy", "importMode"), img.ImportPolicy.ImportMode, []string{string(imagev1.ImportModeLegacy), string(imagev1.ImportModePreserveOriginal)}))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(imageStreamImportGVK.GroupKind(), isi.Name, errs)
	}
	return nil
}

type resolved struct {
	image *registry.Image
	err   *registry.ImportError
}

// importImages serves POST imagestreamimports; the import controller uses it
// too.
//
// onCommit runs when the import is written, with the Imports counters
// already updated.
func (c *Cluster) importImages(ctx context.Context, isi *imagev1.ImageStreamImport, process string, onCommit ...commitFunc) (importResult, error) {
	if err := validateImport(isi); err != nil {
		return importResult{}, err
	}
	key := objectKey{gvk: imageStreamGVK, namespace: isi.Namespace, name: isi.Name}
	start := c.store.get(key)
	switch {
	case start == nil && (isi.ResourceVersion != "" || isi.UID != ""):
		return importResult{}, apierrors.NewNotFound(imagev1.Resource("imagestreams"), isi.Name)
	case start != nil && isi.UID != "" && start.GetUID() != isi.UID:
		return importResult{}, apierrors.NewNotFound(imagev1.Resource("imagestreams"), isi.Name)
	case start != nil && isi.ResourceVersion != "" && start.GetResourceVersion() != isi.ResourceVersion:
		return importResult{}, apierrors.NewConflict(imageStreamImportResource, isi.Name, fmt.Errorf("the image stream was updated from %q to %q", isi.ResourceVersion, start.GetResourceVersion()))
	}
	startRV := ""
	if start != nil {
		startRV = start.GetResourceVersion()
	}

	results := c.resolveAll(ctx, isi)
	if err := ctx.Err(); err != nil {
		return importResult{}, err
	}
	out := isi.DeepCopy()
	out.Status = imagev1.ImageStreamImportStatus{Images: make([]imagev1.ImageImportStatus, len(results))}
	for i, r := range results {
		out.Status.Images[i] = importStatus(isi.Spec.Images[i], r)
		if to := isi.Spec.Images[i].To; to != nil {
			c.stats.update(func(s *Stats) { s.ImportAttempts[TagKey{isi.Namespace, isi.Name, to.Name}]++ })
		}
	}
	if !isi.Spec.Import {
		return importResult{isi: out}, nil
	}

	var imported []string
	k, _ := kindFor(imageStreamGVK)
	res, err := c.store.write(imageStreamGVK, k.resource, key, func(live ctrlruntimeclient.Object) (ctrlruntimeclient.Object, error) {
		var is ctrlruntimeclient.Object
		var err error
		is, imported, err = c.writeImport(isi, live, startRV, results)
		return is, err
	}, append([]commitFunc{func(writeResult) {
		c.stats.update(func(s *Stats) {
			for _, tag := range imported {
				s.Imports[TagKey{isi.Namespace, isi.Name, tag}]++
			}
		})
	}}, onCommit...)...)
	if err != nil {
		return importResult{}, err
	}
	out.Status.Import = res.object.(*imagev1.ImageStream)
	return importResult{writeResult: res, isi: out}, nil
}

// writeImport computes the stream an import leaves: live with the results
// written in, or live itself when nothing changed and the stream has been
// checked before. It returns the tags imported.
func (c *Cluster) writeImport(isi *imagev1.ImageStreamImport, live ctrlruntimeclient.Object, startRV string, results []resolved) (ctrlruntimeclient.Object, []string, error) {
	var imported []string
	if startRV != "" && (live == nil || live.GetResourceVersion() != startRV) {
		return nil, nil, apierrors.NewConflict(imageStreamImportResource, isi.Name, fmt.Errorf("the image stream was updated during the import"))
	}
	var is *imagev1.ImageStream
	if live == nil {
		// The import creates the stream through the internal strategy,
		// which keeps the import's status: generation 0 + 1 = 1 for the
		// stream, its tags and their status entries.
		is = &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: isi.Name, Namespace: isi.Namespace}}
	} else {
		is = live.DeepCopyObject().(*imagev1.ImageStream)
	}
	newGeneration := is.Generation + 1
	now := c.now()
	for i, r := range results {
		spec := isi.Spec.Images[i]
		if spec.To == nil {
			continue
		}
		if c.applyImportResult(is, spec, r, newGeneration, now) {
			imported = append(imported, spec.To.Name)
		}
	}
	if len(imported) == 0 && live != nil {
		if live.GetAnnotations()[imagev1.DockerImageRepositoryCheckAnnotation] != "" {
			return live, nil, nil
		}
		// Nothing imported, but the stream has never been checked: the
		// server writes it to stamp the annotation, with no generation
		// change.
		newGeneration = is.Generation
	}
	is.Generation = newGeneration
	if is.Annotations == nil {
		is.Annotations = map[string]string{}
	}
	is.Annotations[imagev1.DockerImageRepositoryCheckAnnotation] = c.opts.Now().UTC().Format(time.RFC3339)
	normalizeTags(is)
	c.imageStreamDecorate(is)
	return is, imported, nil
}

// resolveAll resolves the images of an import, a few at a time, with the
// import latency of the profile.
func (c *Cluster) resolveAll(ctx context.Context, isi *imagev1.ImageStreamImport) []resolved {
	lat := c.opts.Latency
	_ = sleep(ctx, lat.ImportBase+time.Duration(len(isi.Spec.Images))*lat.ImportPerImage)
	results := make([]resolved, len(isi.Spec.Images))
	creds := c.credentials(ctx, isi.Namespace, nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range isi.Spec.Images {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			img, err := c.registry.ResolveWith(ctx, isi.Spec.Images[i].From.Name, creds)
			if err != nil {
				var ie *registry.ImportError
				if !errors.As(err, &ie) {
					ie = &registry.ImportError{Reason: registry.ReasonInternalError, Message: fmt.Sprintf("Internal error occurred: %s: %v", isi.Spec.Images[i].From.Name, err)}
				}
				results[i] = resolved{err: ie}
				return
			}
			results[i] = resolved{image: img}
		}()
	}
	wg.Wait()
	return results
}

func importStatus(spec imagev1.ImageImportSpec, r resolved) imagev1.ImageImportStatus {
	st := imagev1.ImageImportStatus{}
	if spec.To != nil {
		st.Tag = spec.To.Name
	}
	if r.err != nil {
		st.Status = metav1.Status{Status: metav1.StatusFailure, Reason: metav1.StatusReason(r.err.Reason), Code: reasonCode(r.err.Reason), Message: r.err.Message}
		return st
	}
	st.Status = metav1.Status{Status: metav1.StatusSuccess}
	st.Image = &imagev1.Image{
		ObjectMeta:           metav1.ObjectMeta{Name: r.image.Digest},
		DockerImageReference: r.image.DockerImageReference,
	}
	if spec.ImportPolicy.ImportMode == imagev1.ImportModePreserveOriginal {
		st.Image.DockerImageManifests = r.image.Manifests
		st.Image.DockerImageManifestMediaType = r.image.MediaType
		for _, m := range r.image.Manifests {
			st.Manifests = append(st.Manifests, imagev1.Image{ObjectMeta: metav1.ObjectMeta{Name: m.Digest}, DockerImageReference: repositoryOf(r.image.DockerImageReference) + "@" + m.Digest})
		}
	}
	return st
}

func reasonCode(reason registry.Reason) int32 {
	switch reason {
	case registry.ReasonNotFound:
		return http.StatusNotFound
	case registry.ReasonUnauthorized:
		return http.StatusUnauthorized
	default:
		return http.StatusInternalServerError
	}
}

// applyImportResult writes one image's result into the stream and reports
// whether anything changed.
func (c *Cluster) applyImportResult(is *imagev1.ImageStream, spec imagev1.ImageImportSpec, r resolved, generation int64, now metav1.Time) bool {
	name := spec.To.Name
	tag := specTag(is, name)
	if tag == nil {
		is.Spec.Tags = append(is.Spec.Tags, imagev1.TagReference{Name: name})
		tag = &is.Spec.Tags[len(is.Spec.Tags)-1]
	}
	from := &corev1.ObjectReference{Kind: "DockerImage", Name: spec.From.Name}
	if r.err != nil {
		if !setFailureCondition(is, name, string(r.err.Reason), r.err.Message, generation, now) {
			// An identical failure: the tag keeps a spec generation ahead of
			// everything observed, and no one imports it again.
			if tag.Generation == nil {
				tag.From, tag.ImportPolicy, tag.Generation = from, spec.ImportPolicy, ptrInt64(generation)
				return true
			}
			return false
		}
		if tag.From == nil {
			tag.From = from
			tag.ImportPolicy = spec.ImportPolicy
			if tag.ReferencePolicy.Type == "" {
				tag.ReferencePolicy = spec.ReferencePolicy
			}
		}
		tag.Generation = ptrInt64(generation)
		return true
	}
	importPolicy := spec.ImportPolicy
	if importPolicy.ImportMode == "" {
		importPolicy.ImportMode = imagev1.ImportModeLegacy
	}
	latest := latestTagEvent(is, name)
	hasConditions := false
	for _, st := range is.Status.Tags {
		if st.Tag == name && len(st.Conditions) > 0 {
			hasConditions = true
		}
	}
	changed := latest == nil || latest.Image != r.image.Digest || tag.Generation == nil || *tag.Generation > latest.Generation ||
		tag.From == nil || tag.From.Name != from.Name || tag.ImportPolicy != importPolicy || hasConditions
	if !changed {
		return false
	}
	tag.From = from
	tag.ImportPolicy = importPolicy
	if tag.ReferencePolicy.Type == "" {
		tag.ReferencePolicy = spec.ReferencePolicy
	}
	tag.Generation = ptrInt64(generation)
	setTagEvent(is, name, imagev1.TagEvent{DockerImageReference: r.image.DockerImageReference, Image: r.image.Digest, Generation: generation}, now)
	return true
}

// importController is openshift-controller-manager's ImageStreamController:
// it reacts to stream events, imports the DockerImage tags whose generation
// is ahead of what was observed, and retries an import that lost to a
// concurrent write with per-stream exponential backoff. A per-image failure
// is terminal: nothing retries it.
type importController struct {
	cluster *Cluster
	queue   workqueue.TypedRateLimitingInterface[objectKey]
	stuck   atomic.Bool
}

// StickImportController makes the import controller stuck from now on: it
// takes streams off its queue and imports nothing, as a controller that hangs
// or has lost its leader election does. ImageStreamImports clients post are
// still served.
func (c *Cluster) StickImportController() { c.imports.stuck.Store(true) }

func newImportController(c *Cluster) *importController {
	lat := c.opts.Latency
	base, limit := lat.ImportRetryBase, lat.ImportRetryMax
	if base <= 0 {
		base = time.Millisecond
	}
	if limit < base {
		limit = base
	}
	return &importController{
		cluster: c,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[objectKey](base, limit),
			workqueue.TypedRateLimitingQueueConfig[objectKey]{Name: "imagestreams"}),
	}
}

func (ic *importController) run(ctx context.Context) {
	w, err := ic.cluster.backend.watch(ctx, imageStreamGVK)
	if err != nil {
		panic(fmt.Sprintf("import controller cannot watch image streams: %v", err))
	}
	var wg sync.WaitGroup
	for range ic.cluster.opts.ImportWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ic.next(ctx) {
			}
		}()
	}
	defer func() {
		w.Stop()
		ic.queue.ShutDown()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				// Watches are closed by fault injection; the controller
				// re-lists like an informer does.
				if w, err = ic.cluster.backend.watch(ctx, imageStreamGVK); err != nil {
					return
				}
				continue
			}
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				is := ev.Object.(*imagev1.ImageStream)
				ic.queue.Add(objectKey{gvk: imageStreamGVK, namespace: is.Namespace, name: is.Name})
			}
		}
	}
}

func (ic *importController) next(ctx context.Context) bool {
	key, shutdown := ic.queue.Get()
	if shutdown {
		return false
	}
	defer ic.queue.Done(key)
	err := ic.sync(ctx, key)
	switch {
	case err == nil:
		ic.queue.Forget(key)
	case apierrors.IsConflict(err):
		ic.cluster.stats.update(func(s *Stats) { s.ImportConflicts++ })
		ic.queue.AddRateLimited(key)
	case ctx.Err() != nil:
	default:
		ic.queue.AddRateLimited(key)
	}
	return true
}

func (ic *importController) sync(ctx context.Context, key objectKey) error {
	if ic.stuck.Load() {
		return nil
	}
	if _, remote := ic.cluster.backend.(clientBackend); remote {
		return ic.syncThroughClient(ctx, key)
	}
	live := ic.cluster.store.get(key)
	if live == nil {
		return nil
	}
	isi := importRequest(live.(*imagev1.ImageStream))
	if len(isi.Spec.Images) == 0 {
		return nil
	}
	ic.cluster.stats.request(ControllerProcess, "create", "ImageStreamImport")
	res, err := ic.cluster.importImages(ctx, isi, ControllerProcess, func(writeResult) {
		ic.cluster.stats.write(ControllerProcess, "create", "ImageStreamImport")
	})
	ic.cluster.stats.call(Call{Process: ControllerProcess, Verb: "create", Kind: "ImageStreamImport", Outcome: outcomeOf("create", res.changed, err)}, bodySize(isi))
	return err
}

// importRequest is the controller's ImageStreamImport for a stream: every
// tag that needs an import, conditional on the stream's resourceVersion and
// UID.
func importRequest(is *imagev1.ImageStream) *imagev1.ImageStreamImport {
	isi := &imagev1.ImageStreamImport{
		ObjectMeta: metav1.ObjectMeta{Name: is.Name, Namespace: is.Namespace, ResourceVersion: is.ResourceVersion, UID: is.UID},
		Spec:       imagev1.ImageStreamImportSpec{Import: true},
	}
	for _, tag := range is.Spec.Tags {
		if !needsImport(is, tag) {
			continue
		}
		isi.Spec.Images = append(isi.Spec.Images, imagev1.ImageImportSpec{
			From:            *tag.From,
			To:              &corev1.LocalObjectReference{Name: tag.Name},
			ImportPolicy:    tag.ImportPolicy,
			ReferencePolicy: tag.ReferencePolicy,
		})
	}
	return isi
}

// repositoryOf strips the tag or digest from a pull spec.
func repositoryOf(pullSpec string) string {
	if i := strings.Index(pullSpec, "@"); i >= 0 {
		return pullSpec[:i]
	}
	if i := strings.LastIndex(pullSpec, ":"); i > strings.LastIndex(pullSpec, "/") {
		return pullSpec[:i]
	}
	return pullSpec
}
