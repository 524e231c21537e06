package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Two apps bound to one MariaDB release (bundle install --bind): their
// releases hold none of it and are wired to its Service and Secret; the
// provider is not uninstalled while one of them is bound to it, nor
// upgraded out of their constraints; bad bindings install nothing.
func TestBindTwoAppsToOneDatabase(t *testing.T) {
	e, ns := setupIn(t, "bind")
	ctx := context.Background()
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")

	out := e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--bind", "database=team-db")
	if !strings.Contains(out, "database: mariadb 1.1.0 bound to release "+ns+"/team-db") {
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
		for _, want := range []string{`"team-db-mariadb.` + ns + `.svc`, `name: "team-db-mariadb"`} {
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
	if !strings.Contains(d, "database: mariadb 1.1.0 bound to release "+ns+"/team-db (new)") || strings.Contains(d, "StatefulSet") {
		t.Errorf("diff install --bind:\n%s", d)
	}

	st := e.mustBundle(t, "status", "team-db", "-n", ns)
	if !strings.Contains(st, "CONSUMERS") || !strings.Contains(st, ns+"/blog") || !strings.Contains(st, ns+"/wiki") {
		t.Errorf("status of the provider:\n%s", st)
	}
	if st := e.mustBundle(t, "status", "wiki", "-n", ns); !strings.Contains(st, "bound to release "+ns+"/team-db") {
		t.Errorf("status of a consumer:\n%s", st)
	}

	code, _, errs := e.bundle(t, "uninstall", "team-db", "-n", ns)
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
	other := e.namespace(t, "bind-other")
	out = e.mustBundle(t, "install", "wiki2", "stable/mediawiki", "-n", other, "--create-namespace", "--bind", "database="+ns+"/team-db")
	if !strings.Contains(out, "bound to release "+ns+"/team-db") || !strings.Contains(e.lastRevision(t, other, "wiki2").Manifest, `"team-db-mariadb.`+ns+`.svc"`) {
		t.Errorf("cross-namespace install:\n%s", out)
	}
	code, _, errs = e.bundle(t, "uninstall", "team-db", "-n", ns)
	if code == 0 || !strings.Contains(errs, "is bound by 2 releases: ") || !strings.Contains(errs, other+"/wiki2 (database)") {
		t.Fatalf("uninstalling a provider with a consumer in another namespace: exit %d: %s", code, errs)
	}
	e.mustBundle(t, "uninstall", "wiki2", "-n", other)

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
		{"database=wiki", `release ` + ns + `/wiki is mediawiki 1.1.3, not mariadb`},
		{"database=db2", `release ` + ns + `/db2 has mariadb 2.0.0, outside mariadb ^1.0.0 that database requires`},
		{"db=team-db", `mediawiki 1.1.3 has no requirement "db" (it requires database)`},
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
