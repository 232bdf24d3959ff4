package release

import (
	"context"
	"time"

	imagev1 "github.com/openshift/api/image/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	toolswatch "k8s.io/client-go/tools/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultMergeTakeover bounds how long a follower waits for the merger's
// mark before it merges itself (and never longer than Config.ClaimDuration).
const DefaultMergeTakeover = 30 * time.Second

// takeover is how long a follower waits for a write of the process that
// should make it before it makes the write itself.
// It is shorter than half the stall timeout, so that a wait that follows it
// does not give up first.
func (s *importReleaseStep) takeover() time.Duration {
	return min(s.config.ClaimDuration, DefaultMergeTakeover, s.config.StallTimeout/2)
}

// waitForMark watches the stream until it carries payload's merged mark, for
// at most timeout, and returns the stream as it then was. On every other
// state of the stream it asks stillOurs, so a payload that lost the release
// name stops waiting at once.
func waitForMark(ctx context.Context, client ctrlruntimeclient.WithWatch, namespace, stream, payload string, timeout time.Duration, stillOurs func(context.Context) error) (*imagev1.ImageStream, error) {
	return waitForStream(ctx, client, namespace, stream, timeout, func(is *imagev1.ImageStream) bool {
		return is.Annotations[MergedAnnotation] == payload
	}, stillOurs)
}

// waitForStream watches the stream until done holds, for at most timeout,
// and returns the stream as it then was; stillOurs, when set, is asked on
// every other state.
func waitForStream(ctx context.Context, client ctrlruntimeclient.WithWatch, namespace, stream string, timeout time.Duration, done func(*imagev1.ImageStream) bool, stillOurs func(context.Context) error) (*imagev1.ImageStream, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	selector := fields.OneTermEqualSelector("metadata.name", stream)
	opts := func(options *metav1.ListOptions) []ctrlruntimeclient.ListOption {
		return []ctrlruntimeclient.ListOption{ctrlruntimeclient.InNamespace(namespace),
			ctrlruntimeclient.MatchingFieldsSelector{Selector: selector}, &ctrlruntimeclient.ListOptions{Raw: options}}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			list := &imagev1.ImageStreamList{}
			return list, client.List(ctx, list, opts(&options)...)
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			return client.Watch(ctx, &imagev1.ImageStreamList{}, opts(&options)...)
		},
	}
	var found *imagev1.ImageStream
	_, err := toolswatch.UntilWithSync(ctx, lw, &imagev1.ImageStream{}, nil, func(ev watch.Event) (bool, error) {
		is, ok := ev.Object.(*imagev1.ImageStream)
		if ok && ev.Type != watch.Deleted && is.Name == stream && done(is) {
			found = is
			return true, nil
		}
		if stillOurs == nil {
			return false, nil
		}
		return false, stillOurs(ctx)
	})
	return found, err
}
