package fakeopenshift

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	ctrlruntimeclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// The selectors of list and watch requests, and the status subresource.

func (c *client) listFilter(k kindInfo, opts []ctrlruntimeclient.ListOption) (filter, ctrlruntimeclient.ListOptions, error) {
	lo := ctrlruntimeclient.ListOptions{}
	lo.ApplyOptions(opts)
	if err := parseRawSelectors(&lo); err != nil {
		return filter{}, lo, err
	}
	f := filter{namespace: lo.Namespace, labels: lo.LabelSelector, fields: lo.FieldSelector}
	if k.fieldSet != nil {
		f.fieldSet = func(o ctrlruntimeclient.Object) fields.Set { return k.fieldSet(o) }
	}
	if lo.FieldSelector != nil {
		for _, req := range lo.FieldSelector.Requirements() {
			switch req.Field {
			case "metadata.name", "metadata.namespace":
				continue
			}
			if k.fieldSet == nil {
				return f, lo, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
			// Build a sample to learn which fields the kind supports.
			sample, _ := c.cluster.scheme.New(k.gvk)
			if _, ok := k.fieldSet(sample)[req.Field]; !ok {
				return f, lo, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
	}
	return f, lo, nil
}

// parseRawSelectors takes the selectors of lo.Raw where lo has no typed
// ones, as the real client does (ListOptions.AsListOptions sends the raw
// strings unless typed selectors override them): a ListWatch passes its
// selectors that way.
func parseRawSelectors(lo *ctrlruntimeclient.ListOptions) error {
	if lo.Raw == nil {
		return nil
	}
	if lo.LabelSelector == nil && lo.Raw.LabelSelector != "" {
		sel, err := labels.Parse(lo.Raw.LabelSelector)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		lo.LabelSelector = sel
	}
	if lo.FieldSelector == nil && lo.Raw.FieldSelector != "" {
		sel, err := fields.ParseSelector(lo.Raw.FieldSelector)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		lo.FieldSelector = sel
	}
	return nil
}

func (c *client) Status() ctrlruntimeclient.SubResourceWriter { return c.SubResource("status") }

func (c *client) SubResource(subResource string) ctrlruntimeclient.SubResourceClient {
	return &subResourceClient{client: c, name: subResource}
}

type subResourceClient struct {
	client *client
	name   string
}

func (s *subResourceClient) Get(context.Context, ctrlruntimeclient.Object, ctrlruntimeclient.Object, ...ctrlruntimeclient.SubResourceGetOption) error {
	return fmt.Errorf("fakeopenshift: get of subresource %q is not supported", s.name)
}

func (s *subResourceClient) Create(context.Context, ctrlruntimeclient.Object, ctrlruntimeclient.Object, ...ctrlruntimeclient.SubResourceCreateOption) error {
	return fmt.Errorf("fakeopenshift: create of subresource %q is not supported", s.name)
}

func (s *subResourceClient) Update(ctx context.Context, obj ctrlruntimeclient.Object, opts ...ctrlruntimeclient.SubResourceUpdateOption) (err error) {
	if s.name != "status" {
		return fmt.Errorf("fakeopenshift: update of subresource %q is not supported", s.name)
	}
	req, k, err := s.client.open(ctx, obj, "update/status")
	defer req.finish(&err)
	if err != nil {
		return err
	}
	if !k.hasStatus {
		return apierrors.NewNotFound(k.resource, obj.GetName()+"/status")
	}
	uo := ctrlruntimeclient.SubResourceUpdateOptions{}
	uo.ApplyOptions(opts)
	req.manager, req.body = s.client.manager(uo.FieldManager), bodySize(obj)
	res, err := s.client.cluster.update(k, obj.DeepCopyObject().(ctrlruntimeclient.Object), "status", req.manager, s.client.counted("update/status", k))
	if err := req.end(res, err); err != nil {
		return err
	}
	copyInto(obj, res.object)
	return nil
}

func (s *subResourceClient) Patch(ctx context.Context, obj ctrlruntimeclient.Object, patch ctrlruntimeclient.Patch, opts ...ctrlruntimeclient.SubResourcePatchOption) error {
	if s.name != "status" {
		return fmt.Errorf("fakeopenshift: patch of subresource %q is not supported", s.name)
	}
	po := ctrlruntimeclient.SubResourcePatchOptions{}
	po.ApplyOptions(opts)
	return s.client.doPatch(ctx, obj, patch, "status", po.FieldManager, po.Force != nil && *po.Force)
}
