package release

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// bindLab is a shelf with db 1.0.0, 1.1.0 and 2.0.0 (offering host and
// secret), kv 1.0.0, and app 1.0.0 requiring db ^1.0.0 (host and
// secret into a ConfigMap); db 1.1.0 installed as team-db in namespace
// data, and a client of namespace team.
func bindLab(t *testing.T) (*shelf, *releasetest.Fixture, *Client) {
	t.Helper()
	lab := releasetest.BindShelf(t)
	f := releasetest.New("data")
	set := repo.NewSet(map[string]repo.Repository{"lab": lab})
	dataClient := NewWithEnv(envOf(f), set)
	if _, err := dataClient.Install(context.Background(), InstallOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "1.1.0")}, ReleaseName: "team-db"}); err != nil {
		t.Fatal(err)
	}
	return lab, f, NewWithEnv(teamEnv(f), set)
}

// sharedProvider is bindLab with claimLab's bundles, and cdb installed as
// release shared in namespace team (the client's).
func sharedProvider(t *testing.T) (*shelf, *releasetest.Fixture, *Client) {
	t.Helper()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	if _, err := c.Install(context.Background(), InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	return lab, f, c
}

// claimLab adds claims' bundles to lab (releasetest.AddClaimBundles).
func claimLab(t *testing.T, lab *shelf) { releasetest.AddClaimBundles(t, lab) }

func mustConstraint(t *testing.T, s string) *semver.Constraints { return releasetest.Constraint(t, s) }

// An app bound to an installed release: nothing of the requirement is in
// its release, it is wired with the provider's outputs, the binding is
// recorded, and the provider knows its consumers: it is not uninstalled
// while they exist, nor upgraded out of their constraints.
func TestBindLifecycle(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t)
	granted(t, f, c.repos, "team-db", "team/wiki/database")
	rel, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/app", Bind: []string{"database=data/team-db"}}, ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rel.Manifest, "kind: Service") {
		t.Errorf("the bound requirement was installed with the app:\n%s", rel.Manifest)
	}
	for _, want := range []string{`host: "team-db-db.data.svc"`, `secret: "team-db-auth"`} {
		if !strings.Contains(rel.Manifest, want) {
			t.Errorf("manifest lacks %s:\n%s", want, rel.Manifest)
		}
	}
	if len(rel.Resolved) != 1 || rel.Resolved[0].Bound != "data/team-db" || rel.Resolved[0].Version != "1.1.0" || rel.Resolved[0].Constraint != "^1.0.0" {
		t.Errorf("resolved: %+v", rel.Resolved)
	}

	// The provider's side, from the cluster alone.
	data := NewWithEnv(envOf(f), c.repos)
	cs, err := data.Consumers(ctx, "team-db")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].String() != "team/wiki" || cs[0].Instance != "database" || cs[0].Constraint != "^1.0.0" || cs[0].Grant == nil {
		t.Fatalf("consumers: %+v", cs)
	}
	_, err = data.Uninstall(ctx, UninstallOptions{ReleaseName: "team-db"})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "team/wiki (database)") {
		t.Fatalf("uninstalling a provider with consumers: %v", err)
	}
	var fe *errdefs.Error
	if !errors.As(err, &fe) || len(fe.Fixes) != 4 || fixRuns(fe) != "revoke team-db team/wiki/database -n data; upgrade wiki lab/app -n team --unbind database; uninstall wiki -n team; " {
		t.Errorf("fixes: %+v", fe)
	}
	_, err = data.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "2.0.0")}, ReleaseName: "team-db"})
	if err == nil || err.Error() != `upgrading "team-db" to db 2.0.0 would break release team/wiki: its database is bound to "team-db" and requires db ^1.0.0` {
		t.Fatalf("upgrading the provider out of a consumer's constraint: %v", err)
	}
	// A version that no longer offers an output the consumer needs.
	lab.Put(t, "db", "1.2.0", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\n"})
	_, err = data.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "1.2.0")}, ReleaseName: "team-db"})
	if err == nil || err.Error() != `upgrading "team-db" to db 1.2.0 would break release team/wiki: its database is bound to "team-db" and needs output "secret", which db 1.2.0 does not offer` {
		t.Fatalf("upgrading the provider to a version without an output a consumer needs: %v", err)
	}
	if _, err := data.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "1.0.0")}, ReleaseName: "team-db", HelmOptions: HelmOptions{}}); err != nil {
		t.Fatalf("upgrading the provider within its consumers' constraints: %v", err)
	}
	// Its grant was made again, for the version it has now.
	g := f.Last(t, render.GrantName("team-db", plan.Consumer{Namespace: "team", Release: "wiki", Instance: "database"}))
	if rec := grantOf(g); g.Version != 2 || rec == nil || rec.Provider.Version != "1.0.0" {
		t.Fatalf("the grant after the provider's upgrade: revision %d, %+v", g.Version, rec)
	}
	f.Apply(t, "data", g.Manifest)

	// The app's upgrade keeps the binding, at the provider's new version;
	// --unbind installs the requirement with the app again.
	up, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Resolved[0].Bound != "data/team-db" || up.Resolved[0].Version != "1.0.0" {
		t.Errorf("upgrade lost the binding: %+v", up.Resolved)
	}
	up, err = c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "wiki", Unbind: []string{"database"}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Resolved[0].Bound != "" || !strings.Contains(up.Manifest, "kind: Service") || !strings.Contains(up.Manifest, "wiki-db.team.svc") {
		t.Errorf("unbound upgrade: %+v\n%s", up.Resolved, up.Manifest)
	}
	if cs, _ := data.Consumers(ctx, "team-db"); len(cs) != 1 || cs[0].Grant == nil || cs[0].Bundle != "" {
		t.Errorf("consumers after unbinding: %+v (the grant alone)", cs)
	}
	if _, err := data.Revoke(ctx, RevokeOptions{Provider: "team-db", Consumer: plan.Consumer{Namespace: "team", Release: "wiki", Instance: "database"}}); err != nil {
		t.Fatalf("revoking the grant of an unbound app: %v", err)
	}
	if _, err := data.Uninstall(ctx, UninstallOptions{ReleaseName: "team-db"}); err != nil {
		t.Errorf("uninstalling a provider without consumers: %v", err)
	}
}

// Bad bindings are refused in one line each, and nothing is installed.
func TestBindErrors(t *testing.T) {
	ctx := context.Background()
	_, f, c := bindLab(t)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/kv"}, ReleaseName: "cache"}); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "2.0.0")}, ReleaseName: "db2"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"cache", "db2", "team-db"} {
		granted(t, f, c.repos, p, "team/wiki/database")
	}
	for _, tc := range []struct {
		bind []string
		vals []string
		kind error
		want string
	}{
		{bind: []string{"database=data/nope"}, kind: errdefs.ErrNotFound, want: "bind database=data/nope: release data/nope grants team/wiki/database nothing you may read (no ConfigMap data/" + render.GrantName("nope", plan.Consumer{Namespace: "team", Release: "wiki", Instance: "database"}) + "-grant): an app binds to another namespace's release through its owner's grant; its owner grants it with: bundle grant nope team/wiki/database -n data"},
		{bind: []string{"database=team-db"}, kind: errdefs.ErrNotFound, want: `bind database=team/team-db: no release "team-db" in namespace "team"`},
		{bind: []string{"database=data/cache"}, kind: errdefs.ErrInvalid, want: "bind database=data/cache: release data/cache is kv 1.0.0, not db (database requires db ^1.0.0)"},
		{bind: []string{"database=data/db2"}, kind: errdefs.ErrConflict, want: "bind database=data/db2: release data/db2 has db 2.0.0, outside db ^1.0.0 that database requires"},
		{bind: []string{"cache=data/team-db"}, kind: errdefs.ErrInvalid, want: `bind cache=data/team-db: app 1.0.0 has no requirement "cache" (it requires database)`},
		{bind: []string{"database"}, kind: errdefs.ErrInvalid, want: `bind "database": write INSTANCE=RELEASE or INSTANCE=NAMESPACE/RELEASE, e.g. database=team-db`},
		{vals: []string{"bundle.bind.database=data/db2"}, kind: errdefs.ErrConflict, want: "bind database=data/db2: release data/db2 has db 2.0.0, outside db ^1.0.0 that database requires"},
		{vals: []string{"bundle.bind=x"}, kind: errdefs.ErrInvalid, want: "values bundle.bind: must be a mapping of instance to release, e.g. {database: team-db}"},
	} {
		src := plan.Source{Reference: "lab/app", Bind: tc.bind, Values: bundle.ValuesOptions{Set: tc.vals}}
		_, err := c.Install(ctx, InstallOptions{Source: src, ReleaseName: "wiki"})
		if err == nil || err.Error() != tc.want || !errors.Is(err, tc.kind) {
			t.Errorf("bind %v %v: got %v, want %q", tc.bind, tc.vals, err, tc.want)
		}
		if _, err := recordsOf(c.cfg).Last("wiki"); err == nil {
			t.Fatalf("bind %v %v: something was installed", tc.bind, tc.vals)
		}
	}
}

// A consumer whose provider was uninstalled (--force) is not upgraded
// against nothing: the error names the recorded binding and the upgrades
// that leave or move it.
func TestRecordedBindingGone(t *testing.T) {
	ctx := context.Background()
	_, f, c := bindLab(t)
	g := granted(t, f, c.repos, "team-db", "team/wiki/database")
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/app", Bind: []string{"database=data/team-db"}}, ReleaseName: "wiki"}); err != nil {
		t.Fatal(err)
	}
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Uninstall(ctx, UninstallOptions{ReleaseName: "team-db", Force: true}); err != nil {
		t.Fatal(err)
	}
	// Its grant went with it (Helm's fake kube client deletes nothing).
	if r, err := recordsOf(data.cfg).Last(g.Name); err == nil && r.Info.Status != rcommon.StatusUninstalled {
		t.Fatalf("the provider's grant is left: %s", r.Info.Status)
	}
	if err := f.Clientset.CoreV1().ConfigMaps("data").Delete(ctx, g.Name+"-grant", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "wiki"})
	var fe *errdefs.Error
	if !errors.Is(err, errdefs.ErrNotFound) || !errors.As(err, &fe) ||
		!strings.HasPrefix(err.Error(), `release "wiki" is bound: bind database=data/team-db: release data/team-db grants team/wiki/database nothing you may read`) ||
		len(fe.Fixes) != 2 || strings.Join(fe.Fixes[0].Run, " ") != "upgrade wiki lab/app -n team --unbind database" {
		t.Fatalf("upgrading a consumer whose provider is gone: %v %+v", err, fe)
	}
	_, err = c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "wiki", Unbind: []string{"cache"}})
	if err == nil || err.Error() != "unbind cache: cache is not bound to a release" {
		t.Errorf("unbinding what is not bound: %v", err)
	}
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/app"}, ReleaseName: "wiki", Unbind: []string{"database"}}); err != nil {
		t.Errorf("unbinding: %v", err)
	}
}

// Rolling a provider back to a revision outside a consumer's constraint is
// refused too.
func TestProviderRollbackChecked(t *testing.T) {
	ctx := context.Background()
	_, f, c := bindLab(t)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "2.0.0")}, ReleaseName: "db"}); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/db", Version: mustConstraint(t, "1.0.0")}, ReleaseName: "db"}); err != nil {
		t.Fatal(err)
	}
	granted(t, f, c.repos, "db", "team/wiki/database")
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/app", Bind: []string{"database=data/db"}}, ReleaseName: "wiki"}); err != nil {
		t.Fatal(err)
	}
	_, err := data.Rollback(ctx, RollbackOptions{ReleaseName: "db"})
	if err == nil || err.Error() != `rolling back "db" to revision 1 (db 2.0.0) would break release team/wiki: its database is bound to "db" and requires db ^1.0.0` {
		t.Fatalf("rolling back a provider out of a consumer's constraint: %v", err)
	}
}

// A provider installed before releases recorded their outputs is read
// too: its outputs are rendered again, from its bundle at the installed
// version (or its record) and the values it recorded.
func TestBindRendersOutputsNotRecorded(t *testing.T) {
	ctx := context.Background()
	_, f, c := bindLab(t)
	old := f.Last(t, "team-db")
	delete(old.Chart.Metadata.Annotations, plan.OutputsAnnotation)
	old.Config = map[string]any{"secretSuffix": "pw"}
	if _, ok := f.Last(t, "team-db").Chart.Metadata.Annotations[plan.OutputsAnnotation]; ok {
		t.Skip("the fixture's storage copies records")
	}
	granted(t, f, c.repos, "team-db", "team/wiki/database")
	rel, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/app", Bind: []string{"database=data/team-db"}}, ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`host: "team-db-db.data.svc"`, `secret: "team-db-pw"`} {
		if !strings.Contains(rel.Manifest, want) {
			t.Errorf("manifest lacks %s:\n%s", want, rel.Manifest)
		}
	}
}

// A provider that offers claims: a consumer, of its namespace or another,
// gets its claim rendered in its own release, wired with the claim's
// outputs. Uninstalling the consumer with DeleteData writes nothing to
// its claim's objects.
func TestBindingClaims(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t) // c is of namespace team
	claimLab(t, lab)
	data := NewWithEnv(envOf(f), c.repos)
	for _, cl := range []*Client{c, data} {
		if _, err := cl.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
			t.Fatal(err)
		}
	}
	wiki, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=shared"}}, ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: wiki-database\n", "provider: team/shared", `secret: "wiki-database"`, `host: "shared-db.team.svc"`, "user: wiki_database_"} {
		if !strings.Contains(wiki.Manifest, want) {
			t.Errorf("the consumer's claim lacks %q:\n%s", want, wiki.Manifest)
		}
	}
	granted(t, f, c.repos, "shared", "team/blog/database")
	blog, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "blog"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: blog-database\n", "bundle.sh/granted-by: \"data/blog-database-", `secret: "blog-database"`, `host: "shared-db.data.svc"`} {
		if !strings.Contains(blog.Manifest, want) {
			t.Errorf("the claim of a consumer of another namespace lacks %q:\n%s", want, blog.Manifest)
		}
	}
	if len(wiki.Resolved) != 1 || !wiki.Resolved[0].Claim || len(blog.Resolved) != 1 || !blog.Resolved[0].Claim {
		t.Errorf("recorded claims: wiki %+v, blog %+v", wiki.Resolved, blog.Resolved)
	}

	// An app bound before its provider offered claims keeps the
	// provider's database on upgrade; --bind again gives it a claim.
	lab.Put(t, "cdb", "0.9.0", map[string]string{
		"bundle.yaml":        "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Release.Name }}-db.{{ .Release.Namespace }}.svc'\n  secret: '{{ .Release.Name }}-auth'\n",
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-db\nspec:\n  ports: [{port: 3306}]\n",
	})
	lab.Put(t, "capp", "0.9.0", map[string]string{
		"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: cdb, repository: lab, version: '>=0.9.0', outputs: [host, secret]}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n  secret: {{ .Values.requires.database.secret | quote }}\n",
	})
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb", Version: mustConstraint(t, "0.9.0")}, ReleaseName: "old"}); err != nil {
		t.Fatal(err)
	}
	capp := plan.Source{Reference: "lab/capp", Version: mustConstraint(t, "0.9.0")}
	legacy := capp
	legacy.Bind = []string{"database=old"}
	if _, err := c.Install(ctx, InstallOptions{Source: legacy, ReleaseName: "legacy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/cdb", Version: mustConstraint(t, "1.0.0")}, ReleaseName: "old"}); err != nil {
		t.Fatal(err)
	}
	up, err := c.Upgrade(ctx, UpgradeOptions{Source: capp, ReleaseName: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(up.Manifest, "kind: Secret") || !strings.Contains(up.Manifest, `secret: "old-auth"`) || up.Resolved[0].Claim {
		t.Errorf("an upgrade gave an app bound without a claim one:\n%s", up.Manifest)
	}
	up, err = c.Upgrade(ctx, UpgradeOptions{Source: legacy, ReleaseName: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(up.Manifest, "name: legacy-database\n") || !strings.Contains(up.Manifest, `secret: "legacy-database"`) || !up.Resolved[0].Claim {
		t.Errorf("--bind again gave no claim:\n%s", up.Manifest)
	}

	// --delete-data is a parameter of the uninstall alone: nothing is
	// written to the claims' objects in the provider's namespace (an
	// uninstall cut short would leave it for the next one to act on).
	cms := []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "blog-database-1234-claim", Namespace: "data", Labels: map[string]string{ClaimOfLabel: "blog", ClaimNamespaceLabel: "team"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wiki-database-claim", Namespace: "team", Labels: map[string]string{ClaimOfLabel: "wiki", ClaimNamespaceLabel: "team"}}},
	}
	for _, o := range cms {
		o.Data = map[string]string{"delete-data": "false"}
		if _, err := f.Clientset.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Uninstall(ctx, UninstallOptions{ReleaseName: "blog", DeleteData: true}); err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms {
		got, err := f.Clientset.CoreV1().ConfigMaps(cm.Namespace).Get(ctx, cm.Name, metav1.GetOptions{})
		if err != nil || got.Data["delete-data"] != "false" {
			t.Errorf("%s/%s: %v, %v: the uninstall wrote to it", cm.Namespace, cm.Name, got.Data, err)
		}
	}
}

// A provider's data is never deleted while an app is bound to it, even
// with Force; and a provider owner who may not read the releases of other
// namespaces finds the apps that claim from it by their claims' objects in
// its namespace, and may not delete data it cannot tell is unbound.
func TestDeleteDataOfABoundProvider(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	granted(t, f, c.repos, "shared", "team/wiki/database")
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "wiki"}); err != nil {
		t.Fatal(err)
	}
	_, err := data.Uninstall(ctx, UninstallOptions{ReleaseName: "shared", DeleteData: true, Force: true})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "team/wiki (database)") {
		t.Fatalf("--delete-data --force of a bound provider: %v", err)
	}

	// The provider's owner, in namespace data alone.
	scoped := envOf(f)
	scoped.AllNamespaces = func() (*action.Configuration, error) {
		return nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("RBAC: data only"))
	}
	owner := NewWithEnv(scoped, c.repos)
	_, err = owner.Uninstall(ctx, UninstallOptions{ReleaseName: "team-db", DeleteData: true})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("--delete-data of a provider whose consumers cannot be seen: %v", err)
	}
	// wiki's claim in namespace data names it.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "wiki-database-1234-claim", Namespace: "data",
		Labels: map[string]string{ClaimOfLabel: "wiki", ClaimNamespaceLabel: "team", "app.kubernetes.io/component": "database"}}}
	if _, err := f.Clientset.CoreV1().ConfigMaps("data").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []UninstallOptions{{ReleaseName: "shared"}, {ReleaseName: "shared", DeleteData: true, Force: true}} {
		_, err = owner.Uninstall(ctx, o)
		// Its grant names it, whether or not its release can be read.
		if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "team/wiki (database, granted by wiki-database-") {
			t.Errorf("%+v by the provider's owner: %v", o, err)
		}
	}
	if _, err := owner.Get(ctx, "shared", 0); err != nil {
		t.Fatalf("the provider is gone: %v", err)
	}
}
