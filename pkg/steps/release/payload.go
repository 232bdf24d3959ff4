package release

import (
	"bytes"
	"encoding/json"
	"fmt"

	imagev1 "github.com/openshift/api/image/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// DecodeImageReferences decodes and validates a payload's image-references,
// as `oc adm release extract --file=image-references` prints it: an
// image.openshift.io/v1 ImageStream whose every tag is a DockerImage pull
// spec, with unique, valid tag names and a cli tag.
func DecodeImageReferences(data []byte) (*imagev1.ImageStream, error) {
	var is imagev1.ImageStream
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&is); err != nil {
		return nil, fmt.Errorf("the image references are not JSON: %w", err)
	}
	if is.APIVersion != imagev1.GroupVersion.String() || is.Kind != "ImageStream" {
		return nil, fmt.Errorf("the image references are a %s %q, not an %s ImageStream", is.APIVersion, is.Kind, imagev1.GroupVersion)
	}
	if len(is.Spec.Tags) == 0 {
		return nil, fmt.Errorf("the image references of %q have no tags", is.Name)
	}
	var errs []error
	seen := map[string]bool{}
	for i, tag := range is.Spec.Tags {
		switch {
		case !pullspec.ValidTag(tag.Name):
			errs = append(errs, fmt.Errorf("tag %d: invalid name %q", i, tag.Name))
		case seen[tag.Name]:
			errs = append(errs, fmt.Errorf("tag %q appears more than once", tag.Name))
		case tag.From == nil || tag.From.Kind != "DockerImage":
			errs = append(errs, fmt.Errorf("tag %q does not point at a DockerImage", tag.Name))
		default:
			if _, err := pullspec.Parse(tag.From.Name); err != nil {
				errs = append(errs, fmt.Errorf("tag %q: %w", tag.Name, err))
			}
		}
		seen[tag.Name] = true
	}
	if !seen["cli"] {
		errs = append(errs, fmt.Errorf("there is no cli tag"))
	}
	if err := utilerrors.NewAggregate(errs); err != nil {
		return nil, fmt.Errorf("invalid image references of %q: %w", is.Name, err)
	}
	return &is, nil
}
