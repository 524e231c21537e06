package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/internal/testregistry"
)

func TestLoginPushLogout(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := testregistry.StartWithLogin(t, "alice", "s3cret-pass")
	dest := "oci://" + host + "/bundles"

	// Anonymous push: refused, with how to log in.
	code, _, errs := run(t, "push", "../../bundles/stable/mariadb", dest, "--plain-http")
	if code == 0 || !strings.Contains(errs, "401 Unauthorized: no credentials were found for "+host+": run bundle login "+host) {
		t.Fatalf("anonymous push: %d %q", code, errs)
	}
	// A wrong password: refused, and never printed.
	code, _, errs = runStdin(t, "wrong-pass\n", "login", host, "-u", "alice", "--password-stdin", "--plain-http")
	if code == 0 || !strings.Contains(errs, "login to "+host+" as alice refused") || strings.Contains(errs, "wrong-pass") {
		t.Fatalf("wrong password: %d %q", code, errs)
	}
	code, out, errs := runStdin(t, "s3cret-pass\n", "login", host, "-u", "alice", "--password-stdin", "--plain-http")
	if code != 0 || !strings.Contains(out, "logged in to "+host+" as alice") || strings.Contains(out+errs, "s3cret") {
		t.Fatalf("login: %d %q %q", code, out, errs)
	}
	cfg, err := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"))
	if err != nil || !strings.Contains(string(cfg), host) {
		t.Fatalf("docker config: %v %s", err, cfg)
	}
	if code, out, errs := run(t, "push", "../../bundles/stable/mariadb", dest, "--plain-http"); code != 0 || !strings.HasPrefix(out, "pushed ") {
		t.Fatalf("push after login: %d %q", code, errs)
	}
	if code, _, errs := run(t, "logout", host); code != 0 {
		t.Fatalf("logout: %s", errs)
	}
	code, _, errs = run(t, "pull", dest+"/mariadb", "-d", t.TempDir(), "--plain-http")
	if code == 0 || !strings.Contains(errs, "bundle login "+host) {
		t.Errorf("pull after logout: %d %q", code, errs)
	}
	// No password and no terminal.
	if code, _, errs := run(t, "login", host, "-u", "alice"); code != ExitUsage || !strings.Contains(errs, "--password-stdin") {
		t.Errorf("no password: %d %q", code, errs)
	}
}
