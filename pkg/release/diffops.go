package release

// Diffs of rollback and uninstall: what they would do, object by object,
// changing nothing (see diff.go).

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
)

// DiffRollback says what Rollback would do, changing nothing: it runs as
// a dry run (the target revision validated, the consumers' constraints
// checked, nothing stored), then every object of the target revision is
// dry-run applied as the applier applies it over the release's last
// revision, and compared with the live one; objects the target leaves out
// are deleted.
func (c *Client) DiffRollback(ctx context.Context, opts RollbackOptions, o diff.Options) (*diff.Plan, error) {
	name := opts.ReleaseName
	if err := c.reachable(); err != nil {
		return nil, err
	}
	last, err := c.hist.stored(name, 0)
	if err != nil {
		return nil, err
	}
	opts.DryRun, opts.Wait = true, false
	if _, err := c.Rollback(ctx, opts); err != nil {
		return nil, err
	}
	version, err := c.hist.rollbackTarget(last, opts.Revision)
	if err != nil {
		return nil, err
	}
	target, err := recordsOf(c.cfg).Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("rolling back %q: %w", name, err)
	}
	p, err := compare(name, o, func() (before, after []*unstructured.Unstructured, err error) {
		return c.dryRunObjects(ctx, summarize(target), last, false)
	})
	if err != nil {
		return nil, err
	}
	oldRoot, oldResolved := resolutionOf(last)
	newRoot, newResolved := resolutionOf(target)
	p.Bundle = diff.Root(oldRoot, newRoot)
	p.Requirements = diff.Requirements(oldResolved, newResolved)
	p.Wiring = diff.Wiring(last.Config, target.Config)
	p.Providers = providers(target)
	if p.Consumers, err = c.consumerNames(ctx, name); err != nil {
		return nil, err
	}
	return p, nil
}

// DiffUninstall says what Uninstall would do, changing nothing: every
// object of the release's last revision in the cluster is deleted, but
// those marked helm.sh/resource-policy: keep and, without DeleteData, the
// claims of the manifest; the claims (the manifest's and those its
// StatefulSets made) and the Secrets the data was initialised with
// (DataSecretLabel) are listed as kept or, with DeleteData, deleted. The
// releases bound to this one are listed; without Force, Uninstall refuses
// while there are any.
func (c *Client) DiffUninstall(ctx context.Context, opts UninstallOptions, o diff.Options) (*diff.Plan, error) {
	name := opts.ReleaseName
	if err := c.reachable(); err != nil {
		return nil, err
	}
	last, err := c.hist.stored(name, 0)
	if err != nil {
		return nil, err
	}
	if last.Info != nil && last.Info.Status == rcommon.StatusUninstalled {
		return nil, fmt.Errorf("release %q is already uninstalled (its history was kept)", name)
	}
	if c.env == nil || c.env.Clientset == nil {
		return nil, fmt.Errorf("uninstalling %q: no Kubernetes client to find the release's claims with (Env.Clientset)", name)
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, err
	}
	found, _, err := claims(ctx, cs, last)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", name, err)
	}
	kept := map[string]bool{}
	var planned []diff.Claim
	for _, cl := range found {
		a := diff.Delete
		if !opts.DeleteData {
			a = diff.Keep
			kept[cl.String()] = true
		}
		planned = append(planned, diff.Claim{Action: a, Namespace: cl.Namespace, Name: cl.Name, StatefulSet: cl.StatefulSet})
	}
	revs, err := recordsOf(c.cfg).History(name)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", name, err)
	}
	secrets, err := dataSecrets(ctx, cs, last, revs)
	if err != nil {
		return nil, fmt.Errorf("uninstalling %q: %w", name, err)
	}
	var plannedSecrets []diff.DataSecret
	listed := map[string]bool{} // the data Secrets, listed on their own
	for _, s := range secrets {
		a := diff.Delete
		if !opts.DeleteData {
			a = diff.Keep
		}
		listed[s.String()] = true
		plannedSecrets = append(plannedSecrets, diff.DataSecret{Action: a, Namespace: s.Namespace, Name: s.Name})
	}
	v, err := c.validator(ctx, c.cfg.KubeClient, false, false)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("no dynamic client to read the cluster's objects with (Env.Dynamic)")
	}
	var rl kube.ResourceList
	if strings.TrimSpace(last.Manifest) != "" {
		if rl, err = c.cfg.KubeClient.Build(strings.NewReader(last.Manifest), false); err != nil {
			return nil, fmt.Errorf("reading the objects of revision %d of %q: %w", last.Version, name, err)
		}
	}
	var before []*unstructured.Unstructured
	for _, info := range rl {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		gk := info.Mapping.GroupVersionKind.GroupKind()
		if gk.Group == "" && gk.Kind == "PersistentVolumeClaim" && kept[info.Namespace+"/"+info.Name] {
			continue // listed among the claims
		}
		if gk.Group == "" && gk.Kind == "Secret" && listed[info.Namespace+"/"+info.Name] {
			continue
		}
		live, err := resourceFor(v.dyn, info).Get(ctx, info.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("%s %s: %w", gk.Kind, info.Name, err)
		case live.GetAnnotations()[kube.ResourcePolicyAnno] == kube.KeepPolicy:
			continue // Helm leaves it
		}
		before = append(before, live)
	}
	p, err := diff.Compute(before, nil, o)
	if err != nil {
		return nil, fmt.Errorf("comparing %q with the cluster: %w", name, err)
	}
	oldRoot, oldResolved := resolutionOf(last)
	p.Bundle = diff.Root(oldRoot, nil)
	p.Requirements = diff.Requirements(oldResolved, nil)
	p.Claims = planned
	p.DataSecrets = plannedSecrets
	p.Providers = providers(last)
	if p.Consumers, err = c.consumerNames(ctx, name); err != nil {
		return nil, err
	}
	return p, nil
}

// resolutionOf is the root bundle and the requirement instances a
// revision recorded (nil, nil when it recorded none).
func resolutionOf(rel *helmrelease.Release) (*plan.Resolved, []plan.Resolved) {
	if rel == nil || rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil, nil
	}
	md := rel.Chart.Metadata
	r, _ := plan.ParseResolved(md.Annotations)
	return &plan.Resolved{Bundle: md.Name, Version: md.Version}, r
}

// providers are the releases a revision is bound to, "INSTANCE:
// NAMESPACE/RELEASE".
func providers(rel *helmrelease.Release) []string {
	var out []string
	for _, r := range recordedBindings(rel) {
		if r.Bound != "" {
			out = append(out, r.Instance+": "+r.Bound)
		}
	}
	return out
}

// consumerNames are the releases bound to release name,
// "NAMESPACE/RELEASE (INSTANCE)".
func (c *Client) consumerNames(ctx context.Context, name string) ([]string, error) {
	cs, err := c.links.consumers(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, co := range cs {
		out = append(out, consumerName(co))
	}
	return out, nil
}
