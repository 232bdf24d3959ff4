// Package testclient holds client wrappers that the module's tests share to
// make a server behave as other servers do.
package testclient

import (
	"context"

	"k8s.io/apimachinery/pkg/watch"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// SelectorBlind returns c with watches that ignore the field selector, as
// controller-runtime's fake client's do: a watch gets the events of every
// object of its kind in the namespace, and the watcher must pick its own.
func SelectorBlind(c ctrlruntimeclient.WithWatch) ctrlruntimeclient.WithWatch {
	return selectorBlindClient{c}
}

type selectorBlindClient struct {
	ctrlruntimeclient.WithWatch
}

func (c selectorBlindClient) Watch(ctx context.Context, list ctrlruntimeclient.ObjectList, opts ...ctrlruntimeclient.ListOption) (watch.Interface, error) {
	lo := ctrlruntimeclient.ListOptions{}
	lo.ApplyOptions(opts)
	lo.FieldSelector = nil
	if lo.Raw != nil {
		raw := *lo.Raw
		raw.FieldSelector = ""
		lo.Raw = &raw
	}
	return c.WithWatch.Watch(ctx, list, &lo)
}
