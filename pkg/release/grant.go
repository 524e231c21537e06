package release

// Grants (plan.GrantRecord, render.GrantChart): a binding to a provider of
// another namespace goes through its owner's grant. The owner runs Grant
// in the provider's namespace: a release of its own there holds the
// consumer's claim (its Secret, the Jobs that make its database and user
// with the provider's administrator Secret), the grant record, and the
// Role and RoleBinding that let the consumer's subjects get those two
// objects by name. The consumer reads its grant (grantedBinding) and
// nothing else of the provider's namespace; its release holds only its
// own copy of the claim's password. Revoke uninstalls the grant: its
// hook drops the claim's user (and, with DeleteData, its database).

import (
	"context"
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// GrantOptions configure Grant.
type GrantOptions struct {
	// Provider is the release, of the client's namespace, granted.
	Provider string
	// Consumer is who is granted: an app of another namespace and the
	// requirement it binds to Provider.
	Consumer plan.Consumer
	// Subjects may read what the grant publishes for the consumer (its
	// record and the claim's password). None means the ServiceAccounts
	// of the consumer's namespace (the group
	// system:serviceaccounts:NAMESPACE, DefaultSubjects).
	Subjects []render.Subject
	// WaitOptions: with Wait, Grant waits until the claim's Job has made
	// the database and user.
	WaitOptions
	// DryRun renders and validates against the cluster, changing
	// nothing.
	DryRun bool
}

// Granted is what Grant did.
type Granted struct {
	*Release
	// Record is what the grant publishes for its consumer.
	Record *plan.GrantRecord
	// Subjects may read it.
	Subjects []render.Subject
	DryRun   bool
}

// DefaultSubjects are the subjects of a grant to consumer c that names
// none: the ServiceAccounts of c's namespace.
func DefaultSubjects(c plan.Consumer) []render.Subject {
	return []render.Subject{{Kind: "Group", Name: "system:serviceaccounts:" + c.Namespace}}
}

// Grant lets opts.Consumer, an app of another namespace, bind to provider
// release opts.Provider: it installs (or, granted before, upgrades) the
// grant's release in the provider's namespace, from the provider's
// bundle as the repository its record names serves it (the digest it
// recorded checked), with the provider's outputs as they render for it.
func (c *Client) Grant(ctx context.Context, opts GrantOptions) (*Granted, error) {
	cons := opts.Consumer
	if err := cons.Valid(); err != nil {
		return nil, err
	}
	if cons.Namespace == c.namespace {
		return nil, errdefs.New(errdefs.ErrInvalid, "grant %s: %s is of the provider's namespace %q: it binds without a grant (--bind %s=%s)", opts.Provider, cons, c.namespace, cons.Instance, opts.Provider)
	}
	subjects := opts.Subjects
	if len(subjects) == 0 {
		subjects = DefaultSubjects(cons)
	}
	for _, s := range subjects {
		if err := checkSubject(s); err != nil {
			return nil, err
		}
	}
	if err := c.reachable(); err != nil {
		return nil, err
	}
	doing := fmt.Sprintf("grant %s to %s", opts.Provider, cons)
	rel, err := c.links.provider(c.namespace, opts.Provider)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	if rel == nil {
		return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"list", "-n", c.namespace}}}, "%s: no release %q in namespace %q", doing, opts.Provider, c.namespace)
	}
	if isGrant(rel) {
		return nil, errdefs.New(errdefs.ErrInvalid, "%s: release %q is itself a grant", doing, opts.Provider)
	}
	pb, repo, err := recordedRoot(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	if repo == "" {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Run: []string{"upgrade", opts.Provider, "REPOSITORY/" + pb.Name, "-n", c.namespace, "--version", pb.Version.String()}}},
			"%s: release %q was installed from a directory or an archive: its consumers load its bundle from the repository a grant names, so upgrade it from a repository first", doing, opts.Provider)
	}
	out := &plan.Binding{Bind: plan.Bind{Instance: cons.Instance, Namespace: c.namespace, Release: opts.Provider}, Provider: pb, Repository: repo, Claim: true}
	if err := c.links.fromRepository(ctx, out, rel, repo); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	chrt, vals, rec, err := render.GrantChart(out, cons, subjects)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrInvalid, err, "%s: %s", doing, err)
	}
	name := render.GrantName(opts.Provider, cons)
	ctx, end, err := c.begin(ctx, OpInstall, name, opts.DryRun)
	if err != nil {
		return nil, err
	}
	defer end()
	last, lerr := recordsOf(c.cfg).Last(name)
	exists := lerr == nil && last.Info.Status != rcommon.StatusUninstalled
	if g := grantOf(last); exists && (g == nil || g.Provider.Release != opts.Provider || g.Consumer != cons) {
		return nil, errdefs.New(ErrExists, "%s: release %q exists in namespace %q and is not that grant", doing, name, c.namespace)
	}
	done, err := c.Put(ctx, PutOptions{
		Name: name, Chart: chrt, Values: vals, MaxHistory: 10, WaitOptions: opts.WaitOptions, DryRun: opts.DryRun,
		Description: fmt.Sprintf("%s %s granted to %s", opts.Provider, pb.Version, cons),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, render.HelmError(err))
	}
	return &Granted{Release: done, Record: rec, Subjects: subjects, DryRun: opts.DryRun}, nil
}

// checkSubject refuses a subject RBAC would not take.
func checkSubject(s render.Subject) error {
	switch {
	case s.Name == "":
		return errdefs.New(errdefs.ErrInvalid, "grant subject %s: no name", s.Kind)
	case s.Kind == "ServiceAccount" && s.Namespace == "":
		return errdefs.New(errdefs.ErrInvalid, "grant subject ServiceAccount %s: name its namespace (NAMESPACE/NAME)", s.Name)
	case s.Kind != "User" && s.Kind != "Group" && s.Kind != "ServiceAccount":
		return errdefs.New(errdefs.ErrInvalid, "grant subject %q: the kind is User, Group or ServiceAccount", s.Kind)
	}
	return nil
}

// grantable reports whether release rel may have grants worth finding:
// it is no grant, and its bundle, as its record says, offers outputs or
// claims (a grant of anything else carries nothing an app uses). Only
// such a release's upgrade, rollback and forced uninstall look for its
// grants, which lists the namespace's releases.
func grantable(rel *helmrelease.Release) bool {
	if rel == nil || isGrant(rel) {
		return false
	}
	b, _, err := providerBundle(rel)
	return err == nil && (len(b.File.Outputs) > 0 || b.File.Claims != nil)
}

// isGrant reports whether release rel is a grant.
func isGrant(rel *helmrelease.Release) bool {
	return rel != nil && rel.Chart != nil && rel.Chart.Metadata != nil && rel.Chart.Metadata.Annotations[plan.GrantAnnotation] != ""
}

// grantOf is the record of grant release rel; nil when it is none (or
// its record does not read).
func grantOf(rel *helmrelease.Release) *plan.GrantRecord {
	if !isGrant(rel) {
		return nil
	}
	r, err := plan.ParseGrantRecord("release "+rel.Namespace+"/"+rel.Name, []byte(rel.Chart.Metadata.Annotations[plan.GrantAnnotation]))
	if err != nil {
		return nil
	}
	return r
}

// RevokeOptions configure Revoke.
type RevokeOptions struct {
	// Provider and Consumer name the grant, as Grant's.
	Provider string
	Consumer plan.Consumer
	// DeleteData drops the claim's database with its user. It is refused
	// while the consumer may still be bound (Force does not change it).
	DeleteData bool
	// Force revokes a grant its consumer is (or may be) still bound
	// through: the app loses its database user.
	Force bool
	WaitOptions
	DryRun bool
}

// Revoke uninstalls the grant of opts.Consumer on opts.Provider: the
// claim's pre-delete hook drops its user (and database, with DeleteData),
// the consumer's rights go with the Role.
func (c *Client) Revoke(ctx context.Context, opts RevokeOptions) (*Uninstalled, error) {
	if err := opts.Consumer.Valid(); err != nil {
		return nil, err
	}
	name := render.GrantName(opts.Provider, opts.Consumer)
	if err := c.reachable(); err != nil {
		return nil, err
	}
	last, err := recordsOf(c.cfg).Last(name)
	if err != nil || last.Info.Status == rcommon.StatusUninstalled {
		return nil, errdefs.Fixable(ErrNotFound, []errdefs.Fix{{See: []string{"status", opts.Provider, "-n", c.namespace}}},
			"revoke: release %q of namespace %q grants nothing to %s", opts.Provider, c.namespace, opts.Consumer)
	}
	if g := grantOf(last); g == nil || g.Provider.Release != opts.Provider || g.Consumer != opts.Consumer {
		return nil, errdefs.New(errdefs.ErrInvalid, "revoke: release %q of namespace %q is not the grant of %s to %s", name, c.namespace, opts.Provider, opts.Consumer)
	}
	return c.Uninstall(ctx, UninstallOptions{ReleaseName: name, WaitOptions: opts.WaitOptions, DeleteData: opts.DeleteData, Force: opts.Force, DryRun: opts.DryRun})
}

// checkRevoke refuses to uninstall grant release rel (record g) while its
// consumer is bound through it, or may be (its release cannot be read):
// unless force, and never with deleteData.
func (c *Client) checkRevoke(rel *helmrelease.Release, g *plan.GrantRecord, deleteData, force bool) error {
	cons := g.Consumer
	bound, why := c.links.boundThrough(g)
	fixes := []errdefs.Fix{
		{Run: []string{"upgrade", cons.Release, "BUNDLE", "-n", cons.Namespace, "--unbind", cons.Instance}},
		{Run: []string{"uninstall", cons.Release, "-n", cons.Namespace}},
	}
	switch {
	case !bound && why == nil:
		return nil
	case deleteData && bound:
		return errdefs.Fixable(errdefs.ErrConflict, append(fixes, errdefs.Fix{Options: []string{"delete-data"}, Drop: true}),
			"grant %q: %s still binds %s to %s/%s: --delete-data would drop its database, even with --force: it unbinds or uninstalls first", rel.Name, cons.Namespace+"/"+cons.Release, cons.Instance, g.Provider.Namespace, g.Provider.Release)
	case deleteData:
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"delete-data"}, Drop: true}},
			"grant %q: whether %s still binds %s cannot be read (%s): --delete-data is refused, since it could drop the database in use; someone who may read the releases of namespace %q can run it", rel.Name, cons.Namespace+"/"+cons.Release, cons.Instance, oneLine(why), cons.Namespace)
	case force:
		return nil
	case bound:
		return errdefs.Fixable(errdefs.ErrConflict, append(fixes, errdefs.Fix{Options: []string{"force"}, Use: true}),
			"grant %q: %s still binds %s to %s/%s through it: revoking drops its database user", rel.Name, cons.Namespace+"/"+cons.Release, cons.Instance, g.Provider.Namespace, g.Provider.Release)
	default:
		return errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{Options: []string{"force"}, Use: true}},
			"grant %q: whether %s still binds %s cannot be read (%s): revoking would drop its database user if it does", rel.Name, cons.Namespace+"/"+cons.Release, cons.Instance, oneLine(why))
	}
}

// boundThrough reports whether grant g's consumer is bound to its
// provider (the consumer's release records the binding), or why that
// cannot be read.
func (l *links) boundThrough(g *plan.GrantRecord) (bool, error) {
	cons := g.Consumer
	r, err := l.provider(cons.Namespace, cons.Release)
	if err != nil {
		return false, err
	}
	if r == nil {
		return false, nil
	}
	target := g.Provider.Namespace + "/" + g.Provider.Release
	for _, res := range recordedBindings(r) {
		if res.Instance == cons.Instance && res.Bound == target {
			return true, nil
		}
	}
	return false, nil
}

// grantedBinding reads the grant of binding b (to a provider of another
// namespace) for the requirement r of release claimant of the client's
// namespace, checks it stands for r (plan.CheckBinding: bundle, version,
// repository) and loads the provider's bundle from r's repository, whose
// digest must be the one the grant recorded. The provider's outputs are
// the grant's: its owner rendered them. Nothing else of the provider's
// namespace is read: not its release record, not its Secrets.
func (l *links) grantedBinding(ctx context.Context, b plan.Bind, r *bundle.Requirement, claim bool, claimant string) (*plan.Binding, error) {
	if claimant == "" {
		return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: a binding to another namespace names its release (it is granted to one)", b)
	}
	cons := plan.Consumer{Namespace: l.ns, Release: claimant, Instance: b.Instance}
	name := render.GrantName(b.Release, cons)
	// The fix is the owner's to run, not the consumer's: said in words.
	hint := fmt.Sprintf("; its owner grants it with: bundle grant %s %s -n %s", b.Release, cons, b.Namespace)
	if l.env == nil || l.env.Clientset == nil {
		return nil, errors.New("no Kubernetes client to read grants with (Env.Clientset)")
	}
	cs, err := l.env.Clientset()
	if err != nil {
		return nil, err
	}
	cm, err := cs.CoreV1().ConfigMaps(b.Namespace).Get(ctx, name+"-grant", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
		return nil, errdefs.New(ErrNotFound, "bind %s: release %s/%s grants %s nothing you may read (no ConfigMap %s/%s-grant): an app binds to another namespace's release through its owner's grant%s", b, b.Namespace, b.Release, cons, b.Namespace, name, hint)
	case err != nil:
		return nil, fmt.Errorf("bind %s: reading its grant %s/%s-grant: %w", b, b.Namespace, name, err)
	}
	source := "ConfigMap " + b.Namespace + "/" + cm.Name
	rec, err := plan.ParseGrantRecord(source, []byte(cm.Data[plan.GrantRecordKey]))
	if err != nil {
		return nil, fmt.Errorf("bind %s: %w", b, err)
	}
	if rec.Provider.Release != b.Release || rec.Provider.Namespace != b.Namespace || rec.Consumer != cons {
		return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: %s grants %s/%s to %s, not %s/%s to %s", b, source, rec.Provider.Namespace, rec.Provider.Release, rec.Consumer, b.Namespace, b.Release, cons)
	}
	if r == nil {
		return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: no requirement %q", b, b.Instance)
	}
	v, _ := semver.StrictNewVersion(rec.Provider.Version) // checked by ParseGrantRecord
	out := &plan.Binding{Bind: b, Provider: &bundle.Bundle{Name: rec.Provider.Bundle, Version: v, File: &bundle.File{}, Source: source},
		Repository: rec.Provider.Repository, Claim: claim}
	if err := plan.CheckBinding(r, out); err != nil {
		return nil, err
	}
	full, err := l.loadServed(ctx, r.Repository, rec.Provider.Bundle, v)
	if errors.Is(err, errNotServed) {
		return nil, errdefs.New(ErrNotFound, "bind %s: its grant is of %s %s, which %s does not serve%s", b, rec.Provider.Bundle, v, r.Repository, hint)
	}
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrFailed, err, "bind %s: %s", b, err)
	}
	got, err := plan.Digest(r.Repository, full)
	if err != nil {
		return nil, fmt.Errorf("bind %s: %w", b, err)
	}
	if got != rec.Provider.Digest {
		return nil, errdefs.New(errdefs.ErrStale, "bind %s: its grant is of %s %s with digest %s, but %s serves %s: the grant or the repository changed%s", b, rec.Provider.Bundle, v, rec.Provider.Digest, r.Repository, got, hint)
	}
	out.Provider, out.Outputs, out.Digest = full, rec.Provider.Outputs, got
	out.Claim = claim && full.File.Claims != nil
	switch {
	case out.Claim && rec.Claim == nil:
		return nil, errdefs.New(errdefs.ErrStale, "bind %s: %s %s offers claims, but its grant holds none%s", b, rec.Provider.Bundle, v, hint)
	case out.Claim:
		if want := render.ClaimID(cons.Namespace, cons.Release, cons.Instance); rec.Claim.ID != want || rec.Claim.Secret != name {
			return nil, errdefs.New(errdefs.ErrInvalid, "bind %s: %s names claim %s in Secret %s, not %s in %s", b, source, rec.Claim.ID, rec.Claim.Secret, want, name)
		}
		if _, err := cs.CoreV1().Secrets(b.Namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return nil, errdefs.New(ErrNotFound, "bind %s: the claim's Secret %s/%s cannot be read: %s%s", b, b.Namespace, name, oneLine(err), hint)
		}
		out.Grant = &plan.Grant{Namespace: b.Namespace, Name: name}
	default:
		out.Grant = &plan.Grant{Namespace: b.Namespace, Name: name}
	}
	return out, nil
}

// revokeAll uninstalls the grants of provider release name (refused
// before unless opts.Force: they are its consumers), with opts' hooks,
// wait and dry run.
func (c *Client) revokeAll(ctx context.Context, name string, opts UninstallOptions) error {
	rels, err := c.links.listLatest(false)
	if err != nil {
		return fmt.Errorf("uninstalling %q: finding its grants: %w", name, err)
	}
	for _, r := range rels {
		g := grantOf(r)
		if g == nil || r.Namespace != c.namespace || g.Provider.Release != name || g.Provider.Namespace != c.namespace ||
			r.Info == nil || r.Info.Status == rcommon.StatusUninstalled {
			continue
		}
		_, err := c.Uninstall(ctx, UninstallOptions{ReleaseName: r.Name, WaitOptions: opts.WaitOptions, Force: true, DryRun: opts.DryRun, NoHooks: opts.NoHooks})
		if err != nil {
			return fmt.Errorf("uninstalling %q: revoking its grant to %s: %w", name, g.Consumer, err)
		}
	}
	return nil
}

// regrant grants again, to the same consumers and subjects, every grant
// of provider release name: after the provider moved (upgrade, rollback),
// its grants say its new version, digest and outputs, and its claims'
// Jobs run against it as it is now.
func (c *Client) regrant(ctx context.Context, name string, w WaitOptions) error {
	rels, err := c.links.listLatest(false)
	if err != nil {
		return fmt.Errorf("its grants could not be listed: %w", err)
	}
	for _, r := range rels {
		g := grantOf(r)
		if g == nil || r.Namespace != c.namespace || g.Provider.Release != name || g.Provider.Namespace != c.namespace ||
			r.Info == nil || r.Info.Status == rcommon.StatusUninstalled {
			continue
		}
		if _, err := c.Grant(ctx, GrantOptions{Provider: name, Consumer: g.Consumer, Subjects: grantSubjects(r), WaitOptions: w}); err != nil {
			return fmt.Errorf("its grant to %s was not made again (bundle grant %s %s -n %s): %w", g.Consumer, name, g.Consumer, c.namespace, err)
		}
	}
	return nil
}

// grantSubjects are the subjects grant release r was made for, as its
// values say (none when they do not read: the default then).
func grantSubjects(r *helmrelease.Release) []render.Subject {
	g, _ := r.Config["grant"].(map[string]any)
	list, _ := g["subjects"].([]any)
	var out []render.Subject
	for _, item := range list {
		m, _ := item.(map[string]any)
		s := render.Subject{}
		s.Kind, _ = m["kind"].(string)
		s.Name, _ = m["name"].(string)
		s.Namespace, _ = m["namespace"].(string)
		if checkSubject(s) != nil {
			return nil
		}
		out = append(out, s)
	}
	return out
}
