package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A chart archive is a bundle everywhere a directory is: what bundle package
// writes, template, show, lint, deps and lock read (lock prints, never
// rewrites an archive; --check checks the lock inside it).
func TestArchivesEverywhere(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "shop", "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "shop", "Chart.yaml"), []byte("apiVersion: v1\nname: shop\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "shop", "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db: {bundle: mariadb, version: ^1, outputs: [host]}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "shop", "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {db: \"{{ .Values.requires.db.host }}\"}\n"), 0o644)
	if code, out, errs := run(t, "lock", filepath.Join(dir, "shop")); code != 0 {
		t.Fatalf("lock: %s %s", out, errs)
	}
	code, out, errs := run(t, "package", filepath.Join(dir, "shop"), "-d", dir)
	if code != 0 {
		t.Fatalf("package: %s", errs)
	}
	pkg := filepath.Join(dir, "shop-0.1.0.tgz")
	if !strings.Contains(out, pkg) {
		t.Fatalf("package wrote %q", out)
	}
	// Relative, as a user types it, and absolute.
	t.Chdir(dir)
	for _, ref := range []string{"./shop-0.1.0.tgz", "shop-0.1.0.tgz", pkg} {
		code, out, errs := run(t, "template", "s", ref, "-n", "x")
		if code != 0 || !strings.Contains(out, `db: "s-db.x.svc"`) {
			t.Errorf("template %s: exit %d %s\n%s", ref, code, errs, out)
		}
	}
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"show", pkg}, "shop 0.1.0"},
		{[]string{"show", pkg, "requires"}, "mariadb"},
		{[]string{"lint", pkg}, ""},
		{[]string{"deps", pkg}, "db: mariadb 1.3.0"},
		{[]string{"lock", "--check", pkg}, "shop-0.1.0.tgz:bundle.lock is up to date"},
		{[]string{"lock", pkg}, "kind: Lock"},
		{[]string{"template", pkg, "--locked"}, "kind: StatefulSet"},
	}
	for _, c := range checks {
		code, out, errs := run(t, c.args...)
		if c.args[0] == "lint" {
			if !strings.Contains(out, "shop 0.1.0: ") {
				t.Errorf("lint of an archive does not name the bundle: %s %s", out, errs)
			}
			continue
		}
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("bundle %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(c.args, " "), code, out, errs, c.want)
		}
	}
	// The archive itself was not touched.
	before, _ := os.ReadFile(pkg)
	run(t, "lock", pkg)
	if after, _ := os.ReadFile(pkg); string(before) != string(after) {
		t.Error("bundle lock rewrote the archive")
	}
	// Bad archives: one line each.
	os.WriteFile(filepath.Join(dir, "bad.tgz"), []byte("not gzip"), 0o644)
	for _, args := range [][]string{{"template", "./bad.tgz"}, {"template", "./missing.tgz"}, {"show", "bad.tgz"}} {
		code, out, errs := run(t, args...)
		if code != ExitError || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, ".tgz") {
			t.Errorf("bundle %s: exit %d %q %q", strings.Join(args, " "), code, out, errs)
		}
	}
}

// bundle pull works for the stable catalog (and so any repository), not
// only OCI: it writes NAME-VERSION.tgz, or the files with --untar, and the
// result installs like the original.
func TestPullFromCatalog(t *testing.T) {
	dest := t.TempDir()
	code, out, errs := run(t, "pull", "stable/mariadb", "-d", dest)
	if code != 0 || !strings.Contains(out, filepath.Join(dest, "mariadb-1.3.0.tgz")) {
		t.Fatalf("pull: exit %d %q %q", code, out, errs)
	}
	code, fromArchive, errs := run(t, "template", "db", filepath.Join(dest, "mariadb-1.3.0.tgz"), "--set", "auth.password=x,auth.rootPassword=y")
	if code != 0 {
		t.Fatal(errs)
	}
	_, fromCatalog, _ := run(t, "template", "db", "stable/mariadb", "--set", "auth.password=x,auth.rootPassword=y")
	if fromArchive != fromCatalog {
		t.Error("the pulled archive renders differently from the catalog bundle")
	}
	if code, out, errs := run(t, "pull", "stable/mariadb", "--untar", "-d", dest); code != 0 || !strings.Contains(out, filepath.Join(dest, "mariadb")) {
		t.Fatalf("pull --untar: exit %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dest, "mariadb", "Chart.yaml")); err != nil {
		t.Error(err)
	}
	for _, tt := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"pull", "stable/nope"}, "not found", ExitError},
		{[]string{"pull", "stable/mariadb", "--version", "^9"}, "no version of stable/mariadb satisfies --version ^9", ExitError},
		{[]string{"pull", "stable/mariadb", "--version", "x.y"}, `--version: invalid version constraint "x.y"`, ExitError},
		{[]string{"pull", dest}, "is a local path", ExitUsage},
	} {
		code, _, errs := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("bundle %s: exit %d %q, want %d %q", strings.Join(tt.args, " "), code, errs, tt.code, tt.want)
		}
	}
}
