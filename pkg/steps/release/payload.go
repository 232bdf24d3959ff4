package release

import (
	"fmt"

	jsoniter "github.com/json-iterator/go"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/ci-operator-plugins/import-release/pkg/pullspec"
)

// DecodeImageReferences decodes and validates a payload's image-references,
// as `oc adm release extract --file=image-references` prints it: an
// image.openshift.io/v1 ImageStream whose every tag is a DockerImage pull
// spec, with unique, valid tag names and a cli tag.
//
// The stream returned holds what the step reads of it: its name, and each
// tag's name and from. The rest of the file (tag annotations, policies) is
// not decoded: every process of a job reads the file, and building the
// rest took more than half of the time.
func DecodeImageReferences(data []byte) (*imagev1.ImageStream, error) {
	var file imageReferencesFile
	if err := jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("the image references are not JSON: %w", err)
	}
	is := file.stream()
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
	return is, nil
}

// imageReferencesFile is the part of image-references the step reads.
type imageReferencesFile struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Tags []struct {
			Name string                  `json:"name"`
			From *corev1.ObjectReference `json:"from"`
		} `json:"tags"`
	} `json:"spec"`
}

func (f *imageReferencesFile) stream() *imagev1.ImageStream {
	is := &imagev1.ImageStream{TypeMeta: f.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: f.Metadata.Name}}
	is.Spec.Tags = make([]imagev1.TagReference, len(f.Spec.Tags))
	for i, tag := range f.Spec.Tags {
		is.Spec.Tags[i] = imagev1.TagReference{Name: tag.Name, From: tag.From}
	}
	return is
}
