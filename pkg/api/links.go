package api

import "fmt"

// StepLink is something one step creates and another requires: an image
// stream, a tag in one, or a stage of the job such as "all images are ready".
type StepLink interface {
	// SatisfiedBy reports whether other, created by some step, fulfils this
	// requirement.
	SatisfiedBy(other StepLink) bool
	// UnsatisfiableError explains, for people, what is missing when no step
	// creates this link.
	UnsatisfiableError() string
}

// ImageStreamLink is satisfied by a step that creates the image stream name
// in the job's namespace.
func ImageStreamLink(name string) StepLink {
	return &imageStreamLink{name: name}
}

// ImageStreamTagLink is satisfied by a step that creates the tag name:tag in
// the job's namespace.
func ImageStreamTagLink(name, tag string) StepLink {
	return &imageStreamTagLink{name: name, tag: tag}
}

// ReleasePayloadImageLink is satisfied once the release payload image for
// the release tag (e.g. "latest") is imported into release:<tag>.
func ReleasePayloadImageLink(tag string) StepLink {
	return ImageStreamTagLink(ReleaseImageStream, tag)
}

// ReleaseImagesLink is satisfied once every image of the release name is in
// its stable stream (ReleaseStreamFor(name)).
func ReleaseImagesLink(name string) StepLink {
	return ImageStreamLink(ReleaseStreamFor(name))
}

// ImagesReadyLink is satisfied once every image the job builds is ready.
func ImagesReadyLink() StepLink {
	return imagesReadyLink{}
}

type imageStreamLink struct {
	name string
}

func (l *imageStreamLink) SatisfiedBy(other StepLink) bool {
	o, ok := other.(*imageStreamLink)
	return ok && o.name == l.name
}

func (l *imageStreamLink) UnsatisfiableError() string {
	return fmt.Sprintf("no step creates the image stream %q", l.name)
}

func (l *imageStreamLink) String() string {
	return "imagestream/" + l.name
}

type imageStreamTagLink struct {
	name, tag string
}

func (l *imageStreamTagLink) SatisfiedBy(other StepLink) bool {
	o, ok := other.(*imageStreamTagLink)
	return ok && o.name == l.name && o.tag == l.tag
}

func (l *imageStreamTagLink) UnsatisfiableError() string {
	return fmt.Sprintf("no step creates the image stream tag %s:%s", l.name, l.tag)
}

func (l *imageStreamTagLink) String() string {
	return "imagestreamtag/" + l.name + ":" + l.tag
}

type imagesReadyLink struct{}

func (imagesReadyLink) SatisfiedBy(other StepLink) bool {
	_, ok := other.(imagesReadyLink)
	return ok
}

func (imagesReadyLink) UnsatisfiableError() string {
	return "no step makes the job's images ready"
}

func (imagesReadyLink) String() string {
	return "images-ready"
}
