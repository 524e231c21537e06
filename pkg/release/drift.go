package release

// Drift: the objects of a release whose live state is no longer what the
// release applied. What the release should be is the API server's answer
// to a dry run of the applier's apply of the release's own manifest (its
// last revision's): the fields the release sets, as bundle's field manager
// owns them, on the live object. Only those fields are compared, so that
// what other managers keep (a controller's defaults and status, replicas
// an autoscaler scales through the scale subresource, annotations others
// add) is no drift, while a field the release sets and someone changed by
// hand (kubectl edit, a patch: it moves to their field manager) is. An
// object of the release deleted by hand is drift too (create). An upgrade
// with the same inputs converges them back: its apply takes the fields
// over again (force) and creates what is missing.

import (
	"bytes"
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// Drift compares every object of release name's current revision (the
// deployed one, else the last) with what that revision applied, changing
// nothing: Objects are those whose fields set by the release differ live
// (change: before live, after as the release set them) and those missing
// (create); the others are unchanged. Bundle and Requirements are the
// revision's, unchanged.
func (c *Client) Drift(ctx context.Context, name string, o diff.Options) (*diff.Plan, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	if _, err := c.hist.stored(name, 0); err != nil {
		return nil, err
	}
	rel := c.hist.base(name)
	if rel == nil || rel.Info == nil || rel.Info.Status == rcommon.StatusUninstalled {
		return nil, fmt.Errorf("release %q has no revision in the cluster to compare with", name)
	}
	p, err := compare(name, o, func() (before, after []*unstructured.Unstructured, err error) {
		return c.driftObjects(ctx, rel, nil)
	})
	if err != nil {
		return nil, err
	}
	root, resolved := resolutionOf(rel)
	p.Bundle = diff.Root(root, root)
	p.Requirements = diff.Requirements(resolved, resolved)
	p.Providers = providers(rel)
	return p, nil
}

// Drifted counts the objects of release name's current revision that
// drifted (see Drift).
func (c *Client) Drifted(ctx context.Context, name string) (int, error) {
	p, err := c.Drift(ctx, name, diff.Options{Context: 0})
	if err != nil {
		return 0, err
	}
	return driftedObjects(p), nil
}

// drifted is Drifted of rel, the release's revision in the cluster, read
// with kc (a status's).
func (c *Client) drifted(ctx context.Context, rel *helmrelease.Release, kc kube.Interface) (int, error) {
	p, err := compare(rel.Name, diff.Options{Context: 0}, func() (before, after []*unstructured.Unstructured, err error) {
		return c.driftObjects(ctx, rel, kc)
	})
	if err != nil {
		return 0, err
	}
	return driftedObjects(p), nil
}

// driftedObjects counts the objects of a drift that are not unchanged.
func driftedObjects(p *diff.Plan) int {
	n := 0
	for _, o := range p.Objects {
		if o.Action != diff.Unchanged {
			n++
		}
	}
	return n
}

// driftObjects returns, for every object of rel, the live object (none
// when missing) and what it should be: live with the fields the release
// sets as the dry-run apply of rel's manifest would set them.
func (c *Client) driftObjects(ctx context.Context, rel *helmrelease.Release, kc kube.Interface) (before, after []*unstructured.Unstructured, err error) {
	v, target, err := c.comparing(ctx, kc, rel.Manifest, fmt.Sprintf("revision %d", rel.Version), false)
	if err != nil {
		return nil, nil, err
	}
	labelled(target, rel)
	err = dryRunEach(ctx, v.dyn, target, target, false, func(live, should *unstructured.Unstructured) error {
		if live == nil {
			after = append(after, should) // deleted by hand: the upgrade creates it
			return nil
		}
		expected, err := released(live, should)
		if err != nil {
			return err
		}
		before = append(before, live)
		after = append(after, expected)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// released is live with the fields bundle's apply owns in should (the
// answer to the dry-run apply of the release's manifest) as should has
// them, but those a subresource's writer owns live (status, the scale an
// autoscaler sets).
func released(live, should *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	applied, err := fieldsOf(should, func(e metav1.ManagedFieldsEntry) bool {
		return e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == ""
	})
	if err != nil {
		return nil, err
	}
	sub, err := fieldsOf(live, func(e metav1.ManagedFieldsEntry) bool { return e.Subresource != "" })
	if err != nil {
		return nil, err
	}
	out := live.DeepCopy()
	applied.Difference(sub).Iterate(func(p fieldpath.Path) {
		if v, ok := kubeobj.GetPath(should.Object, p); ok {
			kubeobj.SetPath(out.Object, should.Object, p, v)
		} else {
			kubeobj.RemovePath(out.Object, p)
		}
	})
	return out, nil
}

// fieldsOf is the union of the field sets of u's managedFields entries
// that match.
func fieldsOf(u *unstructured.Unstructured, match func(metav1.ManagedFieldsEntry) bool) (*fieldpath.Set, error) {
	out := &fieldpath.Set{}
	for _, e := range u.GetManagedFields() {
		if e.FieldsV1 == nil || e.FieldsType != "FieldsV1" || !match(e) {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return nil, fmt.Errorf("reading the fields of manager %s: %w", e.Manager, err)
		}
		out = out.Union(s)
	}
	return out, nil
}
