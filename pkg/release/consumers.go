package release

// Consumers: the releases bound to a provider, found before it is
// upgraded, rolled back or uninstalled.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// Consumer is a release with a requirement bound to another release.
type Consumer struct {
	Release   string
	Namespace string
	// Bundle is the consumer's root bundle, Repository where it came from
	// (empty when not recorded).
	Bundle     string
	Repository string
	// Instance is the bound requirement, which requires Requires (a
	// bundle name) at Constraint.
	Instance   string
	Requires   string
	Constraint string
	// Outputs are the outputs the requirement needs, as the consumer's
	// bundle.yaml says.
	Outputs []string
	// App, for a release part of a whole (Guard.WholeOf: a colour of a
	// blue-green app, or its router, which holds the app's claims), is the
	// whole's name: it is unbound by uninstalling the whole.
	App string
	// Grant, for a consumer of another namespace, is the grant that lets
	// it bind (bundle grant); a consumer granted but not seen bound (its
	// release cannot be read, or it has not bound yet) is listed with
	// Grant alone, its Release, Namespace, Instance and Requires set.
	Grant *plan.Grant
	// Unverified, for a consumer of another namespace found only by the
	// ConfigMap of its claim in the provider's namespace (its release
	// could not be read), says so: it may claim from another provider of
	// that namespace. Only Release, Namespace and Instance are set.
	Unverified bool
}

func (c Consumer) String() string { return c.Namespace + "/" + c.Release }

// Consumers lists the releases with a requirement bound to release name of
// the client's namespace, in every namespace the client may list; where it
// may list only its own, with the apps of other namespaces whose claims in
// this namespace name them (Unverified).
func (c *Client) Consumers(ctx context.Context, name string) ([]Consumer, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	return c.links.consumers(ctx, name)
}

func (l *links) consumers(ctx context.Context, name string) ([]Consumer, error) {
	cs, _, err := l.findConsumers(ctx, name)
	return cs, err
}

// findConsumers lists the consumers of release name. partial is nil when
// the releases of every namespace were read; otherwise it is why they
// could not be, and the list holds those of the client's namespace and,
// unverified, the apps of other namespaces that the claim objects in this
// namespace name (ClaimOfLabel): an app bound without a claim from another
// namespace cannot be seen then.
func (l *links) findConsumers(ctx context.Context, name string) (out []Consumer, partial, _ error) {
	rels, err := l.listLatest(true)
	if err != nil {
		partial = err
		if rels, err = l.listLatest(false); err != nil {
			return nil, nil, fmt.Errorf("finding the consumers of %q: %w", name, err)
		}
	}
	target := l.ns + "/" + name
	var granted []Consumer
	for _, r := range rels {
		if r.Info != nil && (r.Info.Status == rcommon.StatusUninstalled || r.Info.Status == rcommon.StatusUninstalling) {
			continue
		}
		if g := grantOf(r); g != nil && r.Namespace == l.ns && g.Provider.Namespace == l.ns && g.Provider.Release == name {
			granted = append(granted, Consumer{Release: g.Consumer.Release, Namespace: g.Consumer.Namespace, Instance: g.Consumer.Instance,
				Requires: g.Provider.Bundle, Grant: &plan.Grant{Namespace: r.Namespace, Name: r.Name}})
			continue
		}
		for _, res := range recordedBindings(r) {
			if res.Bound != target {
				continue
			}
			co := Consumer{Release: r.Name, Namespace: r.Namespace, Bundle: r.Chart.Metadata.Name,
				Repository: r.Chart.Metadata.Annotations[plan.RepositoryAnnotation],
				Instance:   res.Instance, Requires: res.Bundle, Constraint: res.Constraint, App: l.wholeOf(record(r))}
			if cb, _, err := providerBundle(r); err == nil {
				if req := requirement(cb, res.Instance); req != nil {
					co.Outputs = req.Outputs
				}
			}
			out = append(out, co)
		}
	}
	// A grant is a consumer whether or not its app is seen bound: its
	// Jobs run against the provider.
	for _, g := range granted {
		i := slices.IndexFunc(out, func(o Consumer) bool {
			return o.Namespace == g.Namespace && o.Release == g.Release && o.Instance == g.Instance
		})
		if i >= 0 {
			out[i].Grant = g.Grant
			continue
		}
		out = append(out, g)
	}
	if partial != nil {
		claimed, err := l.claimsHere(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("finding the consumers of %q: the releases of other namespaces cannot be read (%s), nor the claims in namespace %q: %w", name, oneLine(partial), l.ns, err)
		}
		for _, co := range claimed {
			if co.Namespace != l.ns && !slices.ContainsFunc(out, func(o Consumer) bool { return o.Namespace == co.Namespace && o.Release == co.Release }) {
				out = append(out, co)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		if out[i].Release != out[j].Release {
			return out[i].Release < out[j].Release
		}
		return out[i].Instance < out[j].Instance
	})
	return out, partial, nil
}

// claimsHere are the apps whose claims have objects in the client's
// namespace (ConfigMaps labelled ClaimOfLabel), unverified, once each per
// instance.
func (l *links) claimsHere(ctx context.Context) ([]Consumer, error) {
	if l.env == nil || l.env.Clientset == nil {
		return nil, errors.New("no Kubernetes client (Env.Clientset)")
	}
	cs, err := l.env.Clientset()
	if err != nil {
		return nil, err
	}
	cms, err := cs.CoreV1().ConfigMaps(l.ns).List(ctx, metav1.ListOptions{LabelSelector: ClaimOfLabel})
	if err != nil {
		return nil, err
	}
	var out []Consumer
	for _, cm := range cms.Items {
		co := Consumer{Release: cm.Labels[ClaimOfLabel], Namespace: cm.Labels[ClaimNamespaceLabel], Instance: cm.Labels["app.kubernetes.io/component"], Unverified: true}
		if co.Namespace == "" {
			co.Namespace = l.ns
		}
		if !slices.ContainsFunc(out, func(o Consumer) bool {
			return o.Namespace == co.Namespace && o.Release == co.Release && o.Instance == co.Instance
		}) {
			out = append(out, co)
		}
	}
	return out, nil
}

// checkDataUnbound refuses to delete the data of release name (the
// provider of bindings, its bundle b) while a release is bound to it (cs,
// as findConsumers found them), or while the releases that could be
// cannot all be seen (partial): deleting the provider's volumes drops
// every consumer's database. It holds with --force.
func checkDataUnbound(name string, b *bundle.Bundle, cs []Consumer, partial error) error {
	if len(cs) > 0 {
		names := make([]string, 0, len(cs))
		for _, co := range cs {
			names = append(names, consumerName(co))
		}
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"release %q is bound by %s: %s; --delete-data would drop their data too, even with --force: uninstall or unbind them first", name, errdefs.Plural(len(cs), "release"), strings.Join(names, ", "))
	}
	if partial != nil && b != nil && (len(b.File.Outputs) > 0 || b.File.Claims != nil) {
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"release %q offers outputs, and the releases of other namespaces that may be bound to it cannot be read (%s): --delete-data is refused, since it could drop their data; someone who may list Secrets in all namespaces can run it", name, oneLine(partial))
	}
	return nil
}

// consumerName is "NAMESPACE/RELEASE (INSTANCE)", saying how an
// unverified consumer was found.
func consumerName(co Consumer) string {
	if co.Grant != nil && co.Bundle == "" {
		return fmt.Sprintf("%s (%s, granted by %s)", co, co.Instance, co.Grant.Name)
	}
	if co.Unverified {
		return fmt.Sprintf("%s (%s, as its claim in this namespace says)", co, co.Instance)
	}
	return fmt.Sprintf("%s (%s)", co, co.Instance)
}

// listLatest returns the latest revision of every release of the client's
// namespace, or of every namespace.
func (l *links) listLatest(all bool) ([]*helmrelease.Release, error) {
	cfg := l.cfg
	if all {
		if l.env == nil || l.env.AllNamespaces == nil {
			return nil, fmt.Errorf("no storage for every namespace (Env.AllNamespaces)")
		}
		var err error
		if cfg, err = l.env.AllNamespaces(); err != nil {
			return nil, err
		}
	}
	list := action.NewList(cfg)
	list.AllNamespaces = all
	list.All = true
	list.SetStateMask()
	return v1sOf(list.Run())
}

// checkNoConsumers refuses to uninstall release name while the releases
// cs are bound to it, naming each with the operations that free it.
func checkNoConsumers(name string, cs []Consumer) error {
	if len(cs) == 0 {
		return nil
	}
	var fixes []errdefs.Fix
	var names []string
	apps := map[string]bool{}
	for _, co := range cs {
		names = append(names, consumerName(co))
		if co.Grant != nil {
			fixes = append(fixes, errdefs.Fix{Run: []string{"revoke", name, co.Namespace + "/" + co.Release + "/" + co.Instance, "-n", co.Grant.Namespace}})
			if co.Bundle == "" {
				continue
			}
		}
		if co.Unverified {
			fixes = append(fixes, errdefs.Fix{Run: []string{"uninstall", co.Release, "-n", co.Namespace}})
			continue
		}
		if co.App != "" {
			if !apps[co.Namespace+"/"+co.App] {
				apps[co.Namespace+"/"+co.App] = true
				fixes = append(fixes, errdefs.Fix{Run: []string{"uninstall", co.App, "-n", co.Namespace}})
			}
			continue
		}
		ref := "BUNDLE"
		if co.Repository != "" && !strings.Contains(co.Repository, "://") {
			ref = co.Repository + "/" + co.Bundle
		}
		fixes = append(fixes,
			errdefs.Fix{Run: []string{"upgrade", co.Release, ref, "-n", co.Namespace, "--unbind", co.Instance}},
			errdefs.Fix{Run: []string{"uninstall", co.Release, "-n", co.Namespace}})
	}
	fixes = append(fixes, errdefs.Fix{Options: []string{"force"}, Use: true})
	return errdefs.Fixable(errdefs.ErrConflict, fixes, "release %q is bound by %s: %s", name, errdefs.Plural(len(cs), "release"), strings.Join(names, ", "))
}

// checkConsumersAllow refuses to move release name to bundle b when a
// consumer's constraint does not allow it, or b lacks an output a
// consumer needs. doing says the operation ("upgrading \"db\" to mariadb
// 2.0.0").
func (l *links) checkConsumersAllow(ctx context.Context, name string, b *bundle.Bundle, doing string) error {
	cs, err := l.consumers(ctx, name)
	if err != nil {
		return err
	}
	for _, co := range cs {
		if co.Requires != "" && co.Requires != b.Name {
			return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and requires %s %s", doing, co, co.Instance, name, co.Requires, co.Constraint)
		}
		if co.Constraint == "" {
			continue
		}
		con, err := bundle.ParseConstraint(co.Constraint)
		if err != nil {
			continue
		}
		if !con.Check(b.Version) {
			return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and requires %s %s", doing, co, co.Instance, name, co.Requires, co.Constraint)
		}
	}
	for _, co := range cs {
		for _, want := range co.Outputs {
			if !slices.ContainsFunc(b.File.Outputs, func(o bundle.Output) bool { return o.Name == want }) {
				return errdefs.New(errdefs.ErrConflict, "%s would break release %s: its %s is bound to %q and needs output %q, which %s does not offer", doing, co, co.Instance, name, want, b)
			}
		}
	}
	return nil
}

// checkRollbackAllowed refuses to roll release name back to a revision
// whose bundle a consumer's constraint does not allow.
func (l *links) checkRollbackAllowed(ctx context.Context, name string, revision int) error {
	target, err := recordsOf(l.cfg).Get(name, revision)
	if err != nil {
		return nil // Helm's rollback says it
	}
	b, _, err := providerBundle(target)
	if err != nil {
		return nil
	}
	return l.checkConsumersAllow(ctx, name, b, fmt.Sprintf("rolling back %q to revision %d (%s)", name, revision, b))
}
