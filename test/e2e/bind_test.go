package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// Two apps bound to one MariaDB release (bundle install --bind): their
// releases hold none of it and are wired to its Service and to their own
// claims (see TestBindClaims); the
// provider is not uninstalled while one of them is bound to it, nor
// upgraded out of their constraints; bad bindings install nothing.
func TestBindTwoAppsToOneDatabase(t *testing.T) {
	e, ns := setupIn(t, "bind")
	ctx := context.Background()
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")

	out := e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--bind", "database=team-db")
	if !strings.Contains(out, "database: mariadb 1.3.0 bound to release "+ns+"/team-db") {
		t.Errorf("install output:\n%s", out)
	}
	// The binding may come from values too.
	values := filepath.Join(t.TempDir(), "bind.yaml")
	if err := os.WriteFile(values, []byte("bundle:\n  bind:\n    database: team-db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustBundle(t, "install", "blog", "stable/wordpress", "-n", ns, "-f", values)

	for _, app := range []string{"wiki", "blog"} {
		m := e.lastRevision(t, ns, app).Manifest
		if regexp.MustCompile(`kind: StatefulSet|mariadb/templates`).MatchString(m) {
			t.Errorf("release %s holds MariaDB objects:\n%s", app, m)
		}
		// Host and port are the provider's; user and Secret the app's claim.
		for _, want := range []string{`"team-db-mariadb.` + ns + `.svc`, `name: "` + app + `-database"`} {
			if !strings.Contains(m, want) {
				t.Errorf("release %s is not wired to team-db (%s):\n%s", app, want, m)
			}
		}
		if _, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, app+"-database", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("StatefulSet %s-database: %v, want none", app, err)
		}
	}

	// diff install says what a bound install would create: no MariaDB.
	d := e.mustBundle(t, "diff", "install", "wiki3", "stable/mediawiki", "-n", ns, "--bind", "database=team-db", "--kubeconfig", e.kubeconfig)
	if !strings.Contains(d, "database: mariadb 1.3.0 bound to release "+ns+"/team-db (new)") || strings.Contains(d, "StatefulSet") {
		t.Errorf("diff install --bind:\n%s", d)
	}

	st := e.mustBundle(t, "status", "team-db", "-n", ns)
	if !strings.Contains(st, "CONSUMERS") || !strings.Contains(st, ns+"/blog") || !strings.Contains(st, ns+"/wiki") {
		t.Errorf("status of the provider:\n%s", st)
	}
	if st := e.mustBundle(t, "status", "wiki", "-n", ns); !strings.Contains(st, "bound to release "+ns+"/team-db") {
		t.Errorf("status of a consumer:\n%s", st)
	}

	// bundle diff uninstall names the releases bound either way.
	code, out, errs := e.diffRun(t, ns, "uninstall", "team-db")
	if code != 0 || !strings.Contains(out, "Bound by: "+ns+"/blog (database)\nBound by: "+ns+"/wiki (database)\n") ||
		!strings.Contains(errs, "warning: bundle uninstall team-db refuses while releases are bound to it") {
		t.Errorf("diff uninstall of the provider: exit %d %s\n%s", code, errs, out)
	}
	code, out, errs = e.diffRun(t, ns, "uninstall", "wiki")
	if code != 0 || !strings.Contains(out, "Bound to: database: "+ns+"/team-db\n") ||
		!strings.Contains(out, "  - database: mariadb 1.3.0 (binding dropped: release "+ns+"/team-db stays)\n") || errs != "" {
		t.Errorf("diff uninstall of a consumer: exit %d %s\n%s", code, errs, out)
	}

	code, _, errs = e.bundle(t, "uninstall", "team-db", "-n", ns)
	if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 ||
		!strings.Contains(errs, `release "team-db" is bound by 2 releases: `+ns+"/blog (database), "+ns+"/wiki (database)") ||
		!strings.Contains(errs, "run bundle upgrade wiki stable/mediawiki -n "+ns+" --unbind database") || !strings.Contains(errs, "use --force") {
		t.Fatalf("uninstalling the provider: exit %d: %s", code, errs)
	}

	// One consumer goes; the other stays, bound.
	e.mustBundle(t, "uninstall", "blog", "-n", ns)
	if _, err := e.cs.AppsV1().Deployments(ns).Get(ctx, "wiki-mediawiki", metav1.GetOptions{}); err != nil {
		t.Errorf("the other consumer: %v", err)
	}
	code, _, errs = e.bundle(t, "uninstall", "team-db", "-n", ns)
	if code == 0 || !strings.Contains(errs, "is bound by 1 release: "+ns+"/wiki (database)") {
		t.Fatalf("uninstalling the provider of one: exit %d: %s", code, errs)
	}

	// A consumer in another namespace (NAMESPACE/RELEASE) counts too.
	other := e.createNamespace(t, "bind-other")
	e.mustBundle(t, "grant", "team-db", other+"/wiki2/database", "-n", ns)
	out = e.mustBundle(t, "install", "wiki2", "stable/mediawiki", "-n", other, "--bind", "database="+ns+"/team-db")
	if !strings.Contains(out, "bound to release "+ns+"/team-db") || !strings.Contains(e.lastRevision(t, other, "wiki2").Manifest, `"team-db-mariadb.`+ns+`.svc"`) {
		t.Errorf("cross-namespace install:\n%s", out)
	}
	code, _, errs = e.bundle(t, "uninstall", "team-db", "-n", ns)
	if code == 0 || !strings.Contains(errs, "is bound by 2 releases: ") || !strings.Contains(errs, other+"/wiki2 (database)") {
		t.Fatalf("uninstalling a provider with a consumer in another namespace: exit %d: %s", code, errs)
	}
	// list --bindings -A shows the binding across namespaces, both ways.
	flat := regexp.MustCompile(` {2,}`).ReplaceAllString(e.mustBundle(t, "list", "--bindings", "-A"), " | ")
	if !strings.Contains(flat, other+"/wiki2 | database → "+ns+"/team-db") || !strings.Contains(flat, ns+"/team-db | - | "+ns+"/wiki (database), "+other+"/wiki2 (database)\n") {
		t.Errorf("list --bindings -A:\n%s", flat)
	}
	// Without -A, the provider's namespace only, but its consumers from every namespace.
	flat = regexp.MustCompile(` {2,}`).ReplaceAllString(e.mustBundle(t, "list", "--bindings", "-n", ns), " | ")
	if strings.Contains(flat, other+"/wiki2 |") || !strings.Contains(flat, ns+"/team-db | - | "+ns+"/wiki (database), "+other+"/wiki2 (database)\n") {
		t.Errorf("list --bindings -n %s:\n%s", ns, flat)
	}
	e.mustBundle(t, "uninstall", "wiki2", "-n", other)
	e.mustBundle(t, "revoke", "team-db", other+"/wiki2/database", "-n", ns)

	// A provider upgrade outside the consumer's constraint: mariadb 2.0.0.
	dir := t.TempDir()
	e.mustBundle(t, "pull", "stable/mariadb", "--untar", "-d", dir)
	chart := filepath.Join(dir, "mariadb", "Chart.yaml")
	b, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chart, regexp.MustCompile(`(?m)^version: .*$`).ReplaceAll(b, []byte("version: 2.0.0")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = e.bundle(t, "upgrade", "team-db", filepath.Join(dir, "mariadb"), "-n", ns)
	if want := `Error: upgrading "team-db" to mariadb 2.0.0 would break release ` + ns + `/wiki: its database is bound to "team-db" and requires mariadb ^1.0.0`; code == 0 || strings.TrimSpace(errs) != want {
		t.Fatalf("upgrading the provider out of a constraint: exit %d: %q, want %q", code, errs, want)
	}
	if rev := e.lastRevision(t, ns, "team-db").Version; rev != 1 {
		t.Errorf("team-db is at revision %d after a refused upgrade", rev)
	}

	// Bad bindings: one line each, nothing installed.
	e.mustBundle(t, "install", "db2", filepath.Join(dir, "mariadb"), "-n", ns)
	for _, tc := range []struct{ bind, want string }{
		{"database=nope", `bind database=` + ns + `/nope: no release "nope" in namespace "` + ns + `"`},
		{"database=wiki", `release ` + ns + `/wiki is mediawiki 1.2.2, not mariadb`},
		{"database=db2", `release ` + ns + `/db2 has mariadb 2.0.0, outside mariadb ^1.0.0 that database requires`},
		{"db=team-db", `mediawiki 1.2.2 has no requirement "db" (it requires database)`},
	} {
		code, _, errs := e.bundle(t, "install", "bad", "stable/mediawiki", "-n", ns, "--bind", tc.bind)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("--bind %s: exit %d: %s (want %q)", tc.bind, code, errs, tc.want)
		}
		if _, err := e.helmStorage(ns).Last("bad"); err == nil {
			t.Fatalf("--bind %s installed a release", tc.bind)
		}
	}

	// --force uninstalls the provider anyway.
	e.mustBundle(t, "uninstall", "team-db", "-n", ns, "--force")
}

// Two apps bound to one MariaDB each get a claim of their own, in their
// own release: a Secret with a password of its own (kept across an
// upgrade), the ConfigMap of its scripts, and the Job that makes the
// database and user (kwok completes it; nothing runs). Uninstalling one
// runs its pre-delete hook and removes its claim; the other's stays.
func TestBindClaims(t *testing.T) {
	e, ns := setupIn(t, "claims")
	ctx := context.Background()
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")
	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--bind", "database=team-db")
	e.mustBundle(t, "install", "blog", "stable/wordpress", "-n", ns, "--bind", "database=team-db")

	owned := func(app string, meta metav1.ObjectMeta) string {
		if meta.Annotations["meta.helm.sh/release-name"] != app || meta.Labels["app.kubernetes.io/instance"] != app {
			return fmt.Sprintf("%s is not of release %s: %v %v", meta.Name, app, meta.Labels, meta.Annotations)
		}
		return ""
	}
	claimJob := func(t *testing.T, app string) (*batchv1.Job, string) {
		jobs, err := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + app + ",app.kubernetes.io/name=mariadb-claim"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i := range jobs.Items {
			names = append(names, jobs.Items[i].Name)
		}
		if len(jobs.Items) != 1 || !strings.HasPrefix(jobs.Items[0].Name, app+"-database-claim-") {
			return nil, fmt.Sprintf("claim Jobs of %s: %v", app, names)
		}
		return &jobs.Items[0], ""
	}
	passwords := map[string]string{}
	testutil.Phase(t, "each app bound to the database gets a claim of its own", func(t *testing.T) {
		for _, app := range []string{"wiki", "blog"} {
			sec, err := e.cs.CoreV1().Secrets(ns).Get(ctx, app+"-database", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("the claim Secret of %s: %v", app, err)
			}
			if msg := owned(app, sec.ObjectMeta); msg != "" {
				t.Error(msg)
			}
			passwords[app] = string(sec.Data["password"])
			cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, app+"-database-claim", metav1.GetOptions{})
			if err != nil || cm.Labels["bundle.sh/claim-of"] != app || cm.Data["delete-data"] != "false" {
				t.Fatalf("the claim ConfigMap of %s: %v %v", app, cm, err)
			}
			job, msg := claimJob(t, app)
			if msg != "" {
				t.Fatal(msg)
			}
			if msg := owned(app, job.ObjectMeta); msg != "" {
				t.Error(msg)
			}
			id := ""
			for _, env := range job.Spec.Template.Spec.Containers[0].Env {
				if env.Name == "CLAIM_USER" {
					id = env.Value
				}
				if env.Name == "ADMIN_PASSWORD" && env.ValueFrom.SecretKeyRef.Name != "team-db-mariadb" {
					t.Errorf("%s: the claim Job's admin Secret: %v", app, env.ValueFrom.SecretKeyRef)
				}
			}
			if !strings.HasPrefix(id, app+"_database_") {
				t.Errorf("%s: claim user %q", app, id)
			}
			m := e.lastRevision(t, ns, app).Manifest
			if !strings.Contains(m, `"`+id+`"`) || strings.Contains(m, `"team-db-mariadb"`) || strings.Contains(m, passwords[app]) {
				t.Errorf("%s is not wired to its claim (user %s, Secret %s-database), or its manifest holds the password:\n%s", app, id, app, m)
			}
			rel := e.lastRevision(t, ns, app)
			hook := false
			for _, h := range rel.Hooks {
				hook = hook || (h.Name == app+"-database-unclaim" && h.Kind == "Job" && len(h.Events) == 1 && h.Events[0] == "pre-delete")
			}
			if !hook {
				t.Errorf("%s: no pre-delete hook %s-database-unclaim", app, app)
			}
			eventually(t, time.Minute, app+"'s claim Job completes", func() (bool, string) {
				j, err := e.cs.BatchV1().Jobs(ns).Get(ctx, job.Name, metav1.GetOptions{})
				return err == nil && j.Status.Succeeded == 1, fmt.Sprint(err)
			})
		}
		if passwords["wiki"] == "" || passwords["wiki"] == passwords["blog"] {
			t.Errorf("claim passwords: %q", passwords)
		}
	})
	testutil.Phase(t, "an upgrade keeps the claim's password, and changes nothing of it next time", func(t *testing.T) {
		e.mustBundle(t, "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--set", "wiki.name=Docs")
		if got := secretValue(t, e, ns, "wiki-database", "password"); got != passwords["wiki"] {
			t.Error("the upgrade changed the claim's password")
		}
		// And nothing of the claim would change on the next one.
		code, d, errs := e.bundle(t, "diff", "upgrade", "wiki", "stable/mediawiki", "-n", ns, "--set", "wiki.name=Docs", "--kubeconfig", e.kubeconfig)
		if code != 0 || !strings.Contains(d, "Objects: 0 to create, 0 to change, 0 to delete") {
			t.Errorf("diff upgrade after the upgrade: exit %d: %s\n%s", code, errs, d)
		}

	})
	// An app of another namespace, named as one of ns, through its
	// owner's grant: the claim's ConfigMap, Jobs and Secret are the
	// grant's, in the provider's namespace, named apart from ns's wiki's;
	// the app's release holds its copy of the Secret alone.
	testutil.Phase(t, "an app of another namespace claims through its owner's grant", func(t *testing.T) {
		other := e.createNamespace(t, "claims-other")
		e.mustBundle(t, "grant", "team-db", other+"/wiki/database", "-n", ns, "--wait", "--timeout", "2m")
		e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", other, "--bind", "database="+ns+"/team-db")
		job := render.GrantName("team-db", plan.Consumer{Namespace: other, Release: "wiki", Instance: "database"})
		pw := secretValue(t, e, other, "wiki-database", "password")
		if pw == passwords["wiki"] || secretValue(t, e, ns, job, "password") != pw {
			t.Errorf("the claim's Secret and its grant's in %s differ, or are ns/wiki's", ns)
		}
		if cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, job+"-claim", metav1.GetOptions{}); err != nil || cm.Annotations["meta.helm.sh/release-name"] != job || cm.Annotations["meta.helm.sh/release-namespace"] != ns {
			t.Errorf("the claim ConfigMap of %s/wiki: %v %v", other, cm, err)
		}
		claimJobIn(t, e, ns, job)
		if m := e.lastRevision(t, other, "wiki").Manifest; strings.Contains(m, "namespace: "+ns) {
			t.Errorf("%s/wiki holds objects in %s:\n%s", other, ns, m)
		}
		if got := secretValue(t, e, ns, "wiki-database", "password"); got != passwords["wiki"] {
			t.Error("a wiki of another namespace changed ns's wiki's claim")
		}
		e.mustBundle(t, "uninstall", "wiki", "-n", other, "--timeout", "2m")
		e.mustBundle(t, "revoke", "team-db", other+"/wiki/database", "-n", ns, "--timeout", "2m")
		eventually(t, time.Minute, "the claim of "+other+"/wiki to go from "+ns, func() (bool, string) {
			_, err1 := e.cs.CoreV1().Secrets(ns).Get(ctx, job, metav1.GetOptions{})
			_, err2 := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, job+"-claim", metav1.GetOptions{})
			return apierrors.IsNotFound(err1) && apierrors.IsNotFound(err2), fmt.Sprint(err1, err2)
		})

	})
	gone := func(t *testing.T, what string, get func() error) {
		t.Helper()
		eventually(t, time.Minute, what+" to go", func() (bool, string) {
			err := get()
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	}
	// One consumer goes with its claim, through its pre-delete hook; the
	// other's claim stays.
	testutil.Phase(t, "one consumer goes with its claim, the other's stays", func(t *testing.T) {
		e.mustBundle(t, "uninstall", "blog", "-n", ns, "--timeout", "2m")
		gone(t, "blog's claim Secret", func() error {
			_, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "blog-database", metav1.GetOptions{})
			return err
		})
		gone(t, "blog's claim ConfigMap", func() error {
			_, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "blog-database-claim", metav1.GetOptions{})
			return err
		})
		eventually(t, time.Minute, "blog's Jobs to go", func() (bool, string) {
			jobs, err := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=blog"})
			return err == nil && len(jobs.Items) == 0, fmt.Sprint(jobs, err)
		})
		if _, msg := claimJob(t, "wiki"); msg != "" {
			t.Error(msg)
		}
		if got := secretValue(t, e, ns, "wiki-database", "password"); got != passwords["wiki"] {
			t.Error("uninstalling blog changed wiki's claim")
		}
		st := e.mustBundle(t, "status", "team-db", "-n", ns)
		if !strings.Contains(st, ns+"/wiki") || strings.Contains(st, ns+"/blog") {
			t.Errorf("the provider's consumers:\n%s", st)
		}
	})
	testutil.Phase(t, "uninstall --delete-data takes the last claim", func(t *testing.T) {
		e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--delete-data", "--timeout", "2m")
		gone(t, "wiki's claim Secret", func() error {
			_, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
			return err
		})
		e.mustBundle(t, "uninstall", "team-db", "-n", ns)
	})
}
