package imagestreams

import (
	imagev1 "github.com/openshift/api/image/v1"
	imagev1apply "github.com/openshift/client-go/image/applyconfigurations/image/v1"
	corev1 "k8s.io/api/core/v1"
)

// FieldManager is the prefix of every field manager the step uses. Each
// purpose has its own manager (see the Manager* constants) so that one apply
// never drops fields another part of the step owns; every process uses the
// same names, so identical applies from N processes are no-ops.
const FieldManager = "ci-operator-import-release"

const (
	// ManagerStream owns the stream-level fields (lookupPolicy).
	ManagerStream = FieldManager
	// ManagerCLI owns the cli tag a CLI pod's answer was applied into.
	ManagerCLI = FieldManager + "-cli"
	// ManagerPayload owns the payload tags merged into a stable stream.
	ManagerPayload = FieldManager + "-payload"
	// ManagerConfig owns the release.openshift.io/config annotation.
	ManagerConfig = FieldManager + "-config"
)

// ReleaseManager owns release:<name>; the release stream holds one tag per
// release name, each applied by its own step.
func ReleaseManager(name string) string {
	return FieldManager + "-release-" + name
}

// ImportMode is the import mode of every tag the step writes: manifest lists
// are imported whole, so the digests work on every architecture.
const ImportMode = imagev1.ImportModePreserveOriginal

// Tag returns the canonical apply configuration of a tag that imports
// pullSpec. Every writer of a tag uses it, so a repeated write changes
// nothing and never bumps the tag's generation.
//
// reference is false by leaving it out: the server drops a false reference
// when it stores the tag (omitempty), so an apply that sends it would differ
// from the stored object every time and rewrite the stream's managedFields
// (a new resourceVersion and a watch event) on every apply.
func Tag(name, pullSpec string, policy imagev1.TagReferencePolicyType) *imagev1apply.TagReferenceApplyConfiguration {
	return imagev1apply.TagReference().
		WithName(name).
		WithFrom(corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec}).
		WithImportPolicy(imagev1apply.TagImportPolicy().WithImportMode(ImportMode)).
		WithReferencePolicy(imagev1apply.TagReferencePolicy().WithType(referencePolicy(policy)))
}

// ImportSpec returns the ImageStreamImport entry that re-imports a tag with
// the canonical definition. An import overwrites the tag's importPolicy, so
// it must carry the canonical one or it would change the tag.
func ImportSpec(name, pullSpec string, policy imagev1.TagReferencePolicyType) imagev1.ImageImportSpec {
	return imagev1.ImageImportSpec{
		From:            corev1.ObjectReference{Kind: "DockerImage", Name: pullSpec},
		To:              &corev1.LocalObjectReference{Name: name},
		ImportPolicy:    imagev1.TagImportPolicy{ImportMode: ImportMode},
		ReferencePolicy: imagev1.TagReferencePolicy{Type: referencePolicy(policy)},
	}
}

// IsCanonical reports whether tag, as read from the server, is the canonical
// definition for pullSpec.
func IsCanonical(tag imagev1.TagReference, pullSpec string, policy imagev1.TagReferencePolicyType) bool {
	return tag.From != nil && tag.From.Kind == "DockerImage" && tag.From.Name == pullSpec && tag.From.Namespace == "" &&
		!tag.Reference && tag.ImportPolicy.ImportMode == ImportMode && !tag.ImportPolicy.Scheduled && !tag.ImportPolicy.Insecure &&
		tag.ReferencePolicy.Type == referencePolicy(policy)
}

func referencePolicy(policy imagev1.TagReferencePolicyType) imagev1.TagReferencePolicyType {
	if policy == "" {
		return imagev1.SourceTagReferencePolicy
	}
	return policy
}

// Stream returns the apply configuration of a stream the step owns the
// stream-level fields of: lookupPolicy.local=true, so pods can use its tags
// by short name.
func Stream(namespace, name string) *imagev1apply.ImageStreamApplyConfiguration {
	return imagev1apply.ImageStream(name, namespace).
		WithSpec(imagev1apply.ImageStreamSpec().WithLookupPolicy(imagev1apply.ImageLookupPolicy().WithLocal(true)))
}

// StreamWithTags returns the apply configuration of a stream holding only
// tags (no stream-level fields), for a manager that owns just those tags.
func StreamWithTags(namespace, name string, tags ...*imagev1apply.TagReferenceApplyConfiguration) *imagev1apply.ImageStreamApplyConfiguration {
	return imagev1apply.ImageStream(name, namespace).WithSpec(imagev1apply.ImageStreamSpec().WithTags(tags...))
}
