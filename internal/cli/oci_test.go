package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testregistry"
)

func TestPushPullInstallFromOCI(t *testing.T) {
	host := testregistry.Start(t)
	dest := "oci://" + host + "/bundles"
	code, out, errs := run(t, "push", "../../bundles/stable/mariadb", dest, "--plain-http")
	if code != 0 || !strings.HasPrefix(out, "pushed "+dest+"/mariadb:1.3.0@sha256:") {
		t.Fatalf("push: %d %q %q", code, out, errs)
	}
	digest := strings.TrimSpace(out[strings.LastIndex(out, "@")+1:])
	// The same package again: accepted, same digest.
	if code, out2, _ := run(t, "push", "../../bundles/stable/mariadb", dest, "--plain-http"); code != 0 || out2 != out {
		t.Errorf("second push: %q", out2)
	}
	// Pull by constraint, as a package and untarred, and by digest.
	dir := t.TempDir()
	if code, out, errs := run(t, "pull", dest+"/mariadb", "--version", "^1", "-d", dir, "--plain-http"); code != 0 || !strings.Contains(out, "mariadb-1.3.0.tgz") {
		t.Fatalf("pull: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "mariadb-1.3.0.tgz")); err != nil {
		t.Error(err)
	}
	untar := t.TempDir()
	if code, _, errs := run(t, "pull", dest+"/mariadb@"+digest, "--untar", "-d", untar, "--plain-http"); code != 0 {
		t.Fatalf("pull by digest: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(untar, "mariadb", "templates", "statefulset.yaml")); err != nil {
		t.Error(err)
	}
	// Render from the registry by reference and by requirement.
	if code, out, errs := run(t, "template", dest+"/mariadb", "--version", "^1", "--plain-http"); code != 0 || !strings.Contains(out, "kind: StatefulSet") {
		t.Fatalf("template from OCI: %d %q", code, errs)
	}
	app := t.TempDir()
	os.WriteFile(filepath.Join(app, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(app, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db:\n    bundle: mariadb\n    repository: "+dest+"\n    version: ^1\n"), 0o644)
	if code, out, errs := run(t, "template", app, "--plain-http"); code != 0 || !strings.Contains(out, "name: app-db") {
		t.Errorf("requirement from OCI: %d %q", code, errs)
	}
	// TLS is the default: the plain-HTTP registry is not reached without the flag.
	if code, _, errs := run(t, "pull", dest+"/mariadb", "-d", t.TempDir()); code == 0 || strings.Count(errs, "\n") != 1 {
		t.Errorf("pull without --plain-http: %d %q", code, errs)
	}
}

// The lock records an OCI requirement's manifest digest, and --check
// notices when the tag moves to other content.
func TestLockRecordsOCIManifestDigest(t *testing.T) {
	host := testregistry.Start(t)
	dest := "oci://" + host + "/bundles"
	code, out, errs := run(t, "push", "../../pkg/render/testdata/catalog/leaf", dest, "--plain-http")
	if code != 0 {
		t.Fatal(errs)
	}
	digest := strings.TrimSpace(out[strings.LastIndex(out, "@")+1:])
	app := t.TempDir()
	os.WriteFile(filepath.Join(app, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(app, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  store:\n    bundle: leaf\n    repository: "+dest+"\n    version: ^1\n"), 0o644)
	if code, _, errs := run(t, "lock", app, "--plain-http"); code != 0 {
		t.Fatal(errs)
	}
	lock, _ := os.ReadFile(filepath.Join(app, "bundle.lock"))
	if !strings.Contains(string(lock), "digest: "+digest) {
		t.Fatalf("lock does not record the manifest digest %s:\n%s", digest, lock)
	}
	// The same version pushed again with other content (forced).
	changed := t.TempDir()
	for _, f := range []string{"Chart.yaml", "bundle.yaml", "templates/cm.yaml"} {
		data, _ := os.ReadFile(filepath.Join("../../pkg/render/testdata/catalog/leaf", f))
		os.MkdirAll(filepath.Dir(filepath.Join(changed, f)), 0o755)
		os.WriteFile(filepath.Join(changed, f), data, 0o644)
	}
	os.WriteFile(filepath.Join(changed, "values.yaml"), []byte("port: 1\n"), 0o644)
	if code, _, errs := run(t, "push", changed, dest, "--plain-http", "--force"); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs = run(t, "lock", "--check", app, "--plain-http")
	if code == 0 || !strings.Contains(errs, "its content changed without a new version") {
		t.Errorf("lock --check after the tag moved: %d %q", code, errs)
	}
}

// TLS is verified unless the user says otherwise.
func TestTLSVerification(t *testing.T) {
	host := testregistry.StartTLS(t)
	dest := "oci://" + host + "/bundles"
	code, _, errs := run(t, "push", "../../pkg/render/testdata/catalog/leaf", dest)
	if code == 0 || !strings.Contains(errs, "certificate") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("push to a self-signed registry: %d %q", code, errs)
	}
	if code, _, errs := run(t, "push", "../../pkg/render/testdata/catalog/leaf", dest, "--insecure-skip-tls-verify"); code != 0 {
		t.Fatalf("push with --insecure-skip-tls-verify: %s", errs)
	}
	if code, out, errs := run(t, "template", dest+"/leaf", "--insecure-skip-tls-verify"); code != 0 || !strings.Contains(out, "ConfigMap") {
		t.Fatalf("template: %d %q", code, errs)
	}
}
