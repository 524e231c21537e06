package release

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// granted has the owner of namespace data grant its release provider to
// consumer (NAMESPACE/RELEASE/INSTANCE), and puts the grant's ConfigMap
// and Secrets in the fake cluster, as applying its release would (Helm's
// fake kube client applies nothing).
func granted(t *testing.T, f *releasetest.Fixture, repos plan.References, provider, consumer string) *Granted {
	t.Helper()
	cons, err := plan.ParseConsumer(consumer)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewWithEnv(envOf(f), repos).Grant(context.Background(), GrantOptions{Provider: provider, Consumer: cons})
	if err != nil {
		t.Fatal(err)
	}
	f.Apply(t, "data", g.Manifest)
	return g
}

// A provider's owner grants an app of another namespace its claim: the
// grant's release, in the provider's namespace, holds the claim's objects
// (named for the grant, with the consumer's id), its record, and a Role
// that gets those two objects by name, bound to the consumer namespace's
// ServiceAccounts unless told whom. The app's release then holds nothing
// outside its namespace: only its copy of the claim's Secret, from the
// grant's. Fails before the fix: there was no grant, and the app's
// release created the claim's Jobs in the provider's namespace.
func TestGrantThenBind(t *testing.T) {
	ctx := context.Background()
	_, f, c := sharedProvider(t) // shared is of namespace team; c too
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}

	// No grant: refused in one line, naming the owner's command.
	_, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "blog"})
	if !errors.Is(err, errdefs.ErrNotFound) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "bind database=data/shared: release data/shared grants team/blog/database nothing you may read") ||
		!strings.HasSuffix(err.Error(), "its owner grants it with: bundle grant shared team/blog/database -n data") {
		t.Fatalf("binding across namespaces without a grant: %v", err)
	}
	if _, err := recordsOf(c.cfg).Last("blog"); err == nil {
		t.Fatal("something was installed")
	}

	g := granted(t, f, c.repos, "shared", "team/blog/database")
	name := render.GrantName("shared", plan.Consumer{Namespace: "team", Release: "blog", Instance: "database"})
	if g.Name != name || g.Namespace != "data" || g.Record.Claim == nil || g.Record.Claim.ID != render.ClaimID("team", "blog", "database") ||
		g.Record.Provider.Digest == "" || g.Record.Provider.Outputs["host"] != "shared-db.data.svc" {
		t.Fatalf("grant: %s/%s %+v", g.Namespace, g.Name, g.Record)
	}
	for _, want := range []string{
		"kind: Role\n", "resourceNames: [\"" + name + "-grant\"]", "resourceNames: [\"" + name + "\"]", "verbs: [get]",
		"kind: RoleBinding", "name: system:serviceaccounts:team", "kind: Group",
		"name: " + name + "\n", // the claim's Secret, named for the grant
		"user: " + render.ClaimID("team", "blog", "database"),
	} {
		if !strings.Contains(g.Manifest, want) {
			t.Errorf("the grant lacks %q:\n%s", want, g.Manifest)
		}
	}
	for _, bad := range []string{"resources: [secrets]\n    verbs: [list]", "namespace: team"} {
		if strings.Contains(g.Manifest, bad) {
			t.Errorf("the grant has %q:\n%s", bad, g.Manifest)
		}
	}

	blog, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "blog"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: blog-database\n", `bundle.sh/granted-by: "data/` + name + `"`, `secret: "blog-database"`, `host: "shared-db.data.svc"`} {
		if !strings.Contains(blog.Manifest, want) {
			t.Errorf("the consumer lacks %q:\n%s", want, blog.Manifest)
		}
	}
	if len(blog.Elsewhere) != 0 || strings.Contains(blog.Manifest, "namespace: data") || strings.Contains(blog.Manifest, "kind: Job") {
		t.Errorf("the consumer's release holds objects outside its namespace: %+v\n%s", blog.Elsewhere, blog.Manifest)
	}
	if len(blog.Resolved) != 1 || blog.Resolved[0].Bound != "data/shared" || !blog.Resolved[0].Claim {
		t.Errorf("resolved: %+v", blog.Resolved)
	}
	// Granted again (other subjects): the same release, upgraded.
	again, err := data.Grant(ctx, GrantOptions{Provider: "shared", Consumer: plan.Consumer{Namespace: "team", Release: "blog", Instance: "database"},
		Subjects: []render.Subject{{Kind: "ServiceAccount", Namespace: "team", Name: "ci"}}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Revision != 2 || !strings.Contains(again.Manifest, "kind: ServiceAccount") || strings.Contains(again.Manifest, "system:serviceaccounts:team") {
		t.Errorf("granted again: revision %d\n%s", again.Revision, again.Manifest)
	}

	// The provider's owner sees the grant as a consumer.
	cs, err := data.Consumers(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].String() != "team/blog" || cs[0].Grant == nil || cs[0].Grant.Name != name {
		t.Errorf("consumers: %+v", cs)
	}
}

// What a consumer reads of its grant is checked: a record that names
// another consumer or provider, a digest the repository does not serve,
// are refused in one line. The provider's own record is not read: a
// rewritten one changes nothing for the consumer.
func TestGrantRecordChecked(t *testing.T) {
	ctx := context.Background()
	_, f, c := sharedProvider(t)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	g := granted(t, f, c.repos, "shared", "team/blog/database")
	install := func() (*Release, error) {
		return c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "blog", DryRun: true})
	}
	clean, err := install()
	if err != nil {
		t.Fatal(err)
	}
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) {
		addEvilClaims(t)(r)
		r.Chart.Metadata.Annotations[plan.OutputsAnnotation] = `{"host":"db.evil.example.com","secret":"team-secrets"}`
	})
	after, err := install()
	if err != nil || after.Manifest != clean.Manifest {
		t.Errorf("a rewritten provider record changed the consumer: %v\n%s", err, after.Manifest)
	}
	// Regranting reads the record: its digest is checked (and its
	// templates are never rendered).
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) {
		r.Chart.Metadata.Annotations[plan.DigestAnnotation] = "sha256:" + strings.Repeat("0", 64)
	})
	_, err = data.Grant(ctx, GrantOptions{Provider: "shared", Consumer: plan.Consumer{Namespace: "team", Release: "blog", Instance: "database"}})
	if !errors.Is(err, errdefs.ErrStale) || !strings.Contains(err.Error(), "the record or the repository changed") {
		t.Errorf("granting from a record whose digest was rewritten: %v", err)
	}

	cmName := g.Name + "-grant"
	edit := func(fn func(r *plan.GrantRecord)) {
		t.Helper()
		cm, err := f.Clientset.CoreV1().ConfigMaps("data").Get(ctx, cmName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := *g.Record
		fn(&r)
		cm.Data[plan.GrantRecordKey] = string(mustJSON(t, r))
		if _, err := f.Clientset.CoreV1().ConfigMaps("data").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(r *plan.GrantRecord)
		kind error
		want string
	}{
		{"another consumer", func(r *plan.GrantRecord) { r.Consumer.Release = "wiki" }, errdefs.ErrInvalid, "grants data/shared to team/wiki/database, not data/shared to team/blog/database"},
		{"another provider", func(r *plan.GrantRecord) { r.Provider.Release = "other" }, errdefs.ErrInvalid, "grants data/other to team/blog/database"},
		{"another digest", func(r *plan.GrantRecord) { r.Provider.Digest = "sha256:" + strings.Repeat("1", 64) }, errdefs.ErrStale, "the grant or the repository changed"},
		{"another claim", func(r *plan.GrantRecord) { c := *r.Claim; c.Secret = "shared-auth"; r.Claim = &c }, errdefs.ErrInvalid, "names claim"},
		{"a version out of range", func(r *plan.GrantRecord) { r.Provider.Version = "2.0.0" }, errdefs.ErrConflict, "outside cdb ^1.0.0"},
	} {
		edit(tc.edit)
		_, err := install()
		if !errors.Is(err, tc.kind) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Revoking a grant: refused while its consumer is bound through it (with
// Force, done), --delete-data refused then even with Force, and refused
// when whether it is bound cannot be read. A provider is not uninstalled
// while it has grants; with Force its grants go first.
func TestRevoke(t *testing.T) {
	ctx := context.Background()
	_, f, c := sharedProvider(t)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	g := granted(t, f, c.repos, "shared", "team/blog/database")
	granted(t, f, c.repos, "shared", "team/wiki/database")
	if _, err := c.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=data/shared"}}, ReleaseName: "blog"}); err != nil {
		t.Fatal(err)
	}
	blog := plan.Consumer{Namespace: "team", Release: "blog", Instance: "database"}

	// The owner in namespace data alone cannot tell.
	scoped := envOf(f)
	scoped.AllNamespaces = func() (*action.Configuration, error) {
		return nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("RBAC: data only"))
	}
	owner := NewWithEnv(scoped, c.repos)
	for _, tc := range []struct {
		c    *Client
		opts RevokeOptions
		want string
	}{
		{data, RevokeOptions{}, "team/blog still binds database to data/shared through it"},
		{data, RevokeOptions{DeleteData: true, Force: true}, "--delete-data would drop its database, even with --force"},
		{owner, RevokeOptions{}, "whether team/blog still binds database cannot be read"},
		{owner, RevokeOptions{DeleteData: true, Force: true}, "--delete-data is refused"},
	} {
		tc.opts.Provider, tc.opts.Consumer = "shared", blog
		_, err := tc.c.Revoke(ctx, tc.opts)
		if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.want)
		}
	}
	// The provider is not uninstalled while granted, even unbound ones.
	_, err := data.Uninstall(ctx, UninstallOptions{ReleaseName: "shared"})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "team/wiki (database, granted by") {
		t.Fatalf("uninstalling a provider with grants: %v", err)
	}
	var fe *errdefs.Error
	if !errors.As(err, &fe) || !strings.Contains(fixRuns(fe), "revoke shared team/wiki/database -n data") {
		t.Errorf("fixes: %+v", fe)
	}
	// Unbound, it is revoked; the owner may then delete its data.
	if _, err := c.Uninstall(ctx, UninstallOptions{ReleaseName: "blog"}); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Revoke(ctx, RevokeOptions{Provider: "shared", Consumer: blog, DeleteData: true}); err != nil {
		t.Fatalf("revoking a grant whose app is gone: %v", err)
	}
	if _, err := recordsOf(data.cfg).Last(g.Name); err == nil {
		if r, _ := recordsOf(data.cfg).Last(g.Name); r.Info.Status != rcommon.StatusUninstalled {
			t.Errorf("the grant is still there: %s", r.Info.Status)
		}
	}
	// With Force, the provider's grants go with it.
	if _, err := data.Uninstall(ctx, UninstallOptions{ReleaseName: "shared", Force: true}); err != nil {
		t.Fatal(err)
	}
	if cs, err := data.Consumers(ctx, "shared"); err != nil || len(cs) != 0 {
		t.Errorf("grants left after the provider: %+v %v", cs, err)
	}
}

func fixRuns(fe *errdefs.Error) string {
	var out []string
	for _, f := range fe.Fixes {
		out = append(out, strings.Join(f.Run, " "))
	}
	return strings.Join(out, "; ")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
