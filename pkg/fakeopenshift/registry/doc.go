// Package registry is an in-memory fake container registry that serves
// generated OpenShift release payloads. The fake OpenShift's import
// controller resolves pull specs through it, and its fake kubelet asks it
// which program an image runs (the payload's cluster-version-operator, oc
// from the cli image, or a plain component).
//
// A release is a payload image, <host>/ocp/release:<name> (also resolvable
// by digest), whose image-references lists its component images, all by
// digest in one art repository, <host>/ocp/release-art-dev, the way
// quay.io/openshift-release-dev/ocp-v4.0-art-dev holds a real payload's
// images. Every digest is the sha256 of a stable string, so two registries
// with the same host generate identical releases, and tests can compare
// against golden files.
//
//	reg := registry.New(registry.WithSleep(fakeSleep))
//	rel := reg.AddRelease("4.18.0-0.nightly-2026-11-20-000000")
//	img, err := reg.Resolve(ctx, rel.PullSpec) // img.Kind == registry.KindPayload
//	remove := reg.AddFault(registry.FaultRule{PullSpec: rel.CLIPullSpec, FailFirst: 1})
//	defer remove()
//
// Fault rules add latency (through the sleep hook, honouring the context),
// fail the first calls for a pull spec with InternalError, or fail every
// call with NotFound, Unauthorized or InternalError. Failures are
// *ImportError values worded as openshift-apiserver words import failures.
// Resolves and TotalResolves count the calls, so a test can assert how often
// an image was imported.
//
// Limits: there is no network listener, no blobs, layers or image configs,
// and no authentication; a manifest list's children (linux/amd64, arm64,
// ppc64le, s390x) exist only as digests, media types and sizes. Only sha256
// digests are accepted, only payloads have tags, and a pull spec must name
// its registry host (no docker.io short names). Releases can be replaced
// (AddRelease with the same name) but not removed.
package registry
