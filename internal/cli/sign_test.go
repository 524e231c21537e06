package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/sign"
)

// TestSignVerifyPolicy: keys made by bundle sign generate-key sign pushed
// bundles; bundle verify and a policy accept them, and refuse, in one
// line naming the bundle, the unsigned, the tampered and those signed by
// another key, whichever bundle of the graph it is.
func TestSignVerifyPolicy(t *testing.T) {
	host := testregistry.Start(t)
	dest := "oci://" + host + "/bundles"
	dir := t.TempDir()
	team, stranger := filepath.Join(dir, "team"), filepath.Join(dir, "stranger")
	pw := map[string]string{"BUNDLE_SIGN_PASSWORD": "s3cret"}
	if code, out, errs := runWithEnv(t, pw, "", "sign", "generate-key", "--output-key-prefix", team); code != 0 || !strings.Contains(out, "encrypted") {
		t.Fatalf("generate-key: %d %q %q", code, out, errs)
	}
	for _, f := range []string{team + ".key", team + ".pub"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, st.Mode(), err)
		}
	}
	checkFailures(t, []failure{
		{"key exists", []string{"sign", "generate-key", "--output-key-prefix", team}, ExitError, "Error: " + team + ".key exists: keep it, or replace the key pair"},
		{"sign without key", []string{"sign", dest + "/app"}, ExitUsage, "Error: --key FILE is required"},
		{"verify without key", []string{"verify", dest + "/app"}, ExitUsage, "Error: --key FILE is required: the public key of the signer to trust (no signature policy lists " + dest + "/app)"},
		{"sign a directory", []string{"sign", ".", "--key", team + ".key"}, ExitUsage, `Error: ".": sign and verify take a pushed bundle`},
	})
	if code, out, errs := run(t, "sign", "generate-key", "--output-key-prefix", stranger); code != 0 || !strings.Contains(out, "unencrypted") {
		t.Fatalf("generate-key without password: %d %q %q", code, out, errs)
	}

	// app requires mariadb from the same registry.
	app := t.TempDir()
	os.MkdirAll(filepath.Join(app, "templates"), 0o755)
	os.WriteFile(filepath.Join(app, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(app, "bundle.yaml"), []byte("apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  db:\n    bundle: mariadb\n    repository: "+dest+"\n    version: ^1\n"), 0o644)
	os.WriteFile(filepath.Join(app, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n"), 0o644)
	for _, src := range []string{"../../bundles/stable/mariadb", app} {
		if code, _, errs := run(t, "push", src, dest, "--plain-http"); code != 0 {
			t.Fatalf("push %s: %s", src, errs)
		}
	}
	code, out, errs := runWithEnv(t, pw, "", "sign", dest+"/app", "--version", "0.1.0", "--key", team+".key", "--plain-http")
	if code != 0 || !strings.HasPrefix(out, "signed "+dest+"/app@sha256:") || !strings.Contains(out, "(signature "+dest+"/app:sha256-") {
		t.Fatalf("sign: %d %q %q", code, out, errs)
	}
	appDigest := strings.Fields(out)[1][len(dest+"/app@"):]

	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte("repositories:\n  - prefix: "+dest+"\n    keys: [team.pub]\n"), 0o644)
	checkFailures(t, []failure{
		{"no password", []string{"sign", dest + "/app", "--key", team + ".key", "--plain-http"}, ExitError, "Error: " + team + ".key is encrypted: set $BUNDLE_SIGN_PASSWORD"},
		{"verify unsigned", []string{"verify", dest + "/mariadb", "--key", team + ".pub", "--plain-http"}, ExitError, "Error: " + dest + "/mariadb@1.3.0 (sha256:"},
		{"verify other key", []string{"verify", dest + "/app", "--key", stranger + ".pub", "--plain-http"}, ExitError, "Error: " + dest + "/app@0.1.0 (" + appDigest + "): signed by another key: none of 1 signatures verifies with " + stranger + ".pub"},
		// app is signed, its requirement is not: refused before rendering, naming mariadb.
		{"policy unsigned requirement", []string{"template", dest + "/app", "--plain-http", "--policy", policy}, ExitError, "Error: resolving the requirements of app 0.1.0: mariadb 1.3.0: " + dest + "/mariadb@1.3.0 (sha256:"},
		{"bad policy", []string{"template", dest + "/app", "--plain-http", "--policy", filepath.Join(dir, "team.pub")}, ExitError, "Error: " + filepath.Join(dir, "team.pub") + ":1:"},
	})
	if _, _, errs := run(t, "verify", dest+"/mariadb", "--key", team+".pub", "--plain-http"); !strings.Contains(errs, "): unsigned: no signature at sha256-") {
		t.Errorf("verify unsigned: %q", errs)
	}
	if code, out, errs := run(t, "verify", dest+"/app", "--version", "^0.1", "--key", stranger+".pub", "--key", team+".pub", "--plain-http"); code != 0 || out != "verified "+dest+"/app@"+appDigest+": signed by "+team+".pub\n" {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}

	// Without --key: the policy's keys for the repository.
	if code, out, errs := run(t, "verify", dest+"/app@"+appDigest, "--policy", policy, "--plain-http"); code != 0 || out != "verified "+dest+"/app@"+appDigest+": signed by team.pub\n" {
		t.Fatalf("verify with the policy's keys: %d %q %q", code, out, errs)
	}

	// Signed by another key: refused, then signed by the team: accepted.
	if code, _, errs := run(t, "sign", dest+"/mariadb", "--key", stranger+".key", "--plain-http"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := run(t, "pull", dest+"/mariadb", "-d", t.TempDir(), "--plain-http", "--policy", policy); code == 0 || !strings.Contains(errs, "refused by the signature policy ("+policy+":2): signed by another key: none of 1 signatures verifies with team.pub") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("pull signed by another key: %d %q", code, errs)
	}
	if code, _, errs := runWithEnv(t, pw, "", "sign", dest+"/mariadb", "--key", team+".key", "--plain-http"); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := run(t, "template", dest+"/app", "--plain-http", "--policy", policy); code != 0 || !strings.Contains(out, "kind: StatefulSet") {
		t.Fatalf("template signed graph: %d %q", code, errs)
	}
	pulled := t.TempDir()
	if code, _, errs := run(t, "pull", dest+"/app@"+appDigest, "-d", pulled, "--plain-http", "--policy", policy); code != 0 {
		t.Fatalf("pull by digest: %s", errs)
	}
	// The default policy file applies without --policy.
	confDir := t.TempDir()
	os.WriteFile(filepath.Join(confDir, "policy.yaml"), []byte("repositories:\n  - prefix: "+dest+"\n    keys: ["+stranger+".pub]\n"), 0o644)
	if code, _, errs := runWithEnv(t, map[string]string{"BUNDLE_CONFIG_HOME": confDir}, "", "template", dest+"/app", "--plain-http"); code == 0 || !strings.Contains(errs, dest+"/app@0.1.0 (") || !strings.Contains(errs, "signed by another key") {
		t.Fatalf("default policy: %d %q", code, errs)
	}

	// A default policy file that cannot be read refuses every OCI bundle,
	// saying where it is wrong; the built-in catalog still works.
	os.WriteFile(filepath.Join(confDir, "policy.yaml"), []byte("repositories:\n  - prefix: "+dest+"\n    keys: [gone.pub]\n"), 0o644)
	broken := map[string]string{"BUNDLE_CONFIG_HOME": confDir}
	if code, _, errs := runWithEnv(t, broken, "", "template", dest+"/app", "--plain-http"); code == 0 || !strings.HasPrefix(errs, "Error: "+filepath.Join(confDir, "policy.yaml")+":3: repositories[0].keys[0]: open ") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("broken default policy: %d %q", code, errs)
	}
	if code, _, errs := runWithEnv(t, broken, "", "template", "stable/mariadb"); code != 0 {
		t.Fatalf("catalog bundle with a broken default policy: %q", errs)
	}

	// Install through Helm's memory storage: accepted when signed, and
	// refused, nothing installed, once app's tag points to other content.
	f := releasetest.New("team")
	if code, out, errs := runWith(t, f, "install", "shop", dest+"/app", "--plain-http", "--policy", policy); code != 0 {
		t.Fatalf("install signed: %d %q %q", code, out, errs)
	}
	os.WriteFile(filepath.Join(app, "values.yaml"), []byte("changed: true\n"), 0o644)
	os.WriteFile(filepath.Join(app, "Chart.yaml"), []byte("apiVersion: v2\nname: app\nversion: 0.2.0\n"), 0o644)
	if code, _, errs := run(t, "push", app, dest, "--plain-http"); code != 0 {
		t.Fatal(errs)
	}
	// 0.2.0's manifest carries 0.1.0's signature: tampered.
	r, _ := remote.NewRepository(host + "/bundles/app")
	r.PlainHTTP = true
	ctx := context.Background()
	_, sig, err := oras.FetchBytes(ctx, r, sign.SignatureTag(appDigest), oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := r.Resolve(ctx, "0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(ctx, r, ocispec.MediaTypeImageManifest, sig, sign.SignatureTag(d2.Digest.String())); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runWith(t, f, "install", "shop2", dest+"/app", "--plain-http", "--policy", policy)
	if code == 0 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, dest+"/app@0.2.0 ("+d2.Digest.String()+") refused by the signature policy ("+policy+":2): tampered: the signature (by team.pub) is of "+appDigest+", the manifest is "+d2.Digest.String()) {
		t.Fatalf("install tampered: %d %q %q", code, out, errs)
	}
	if code, out, _ := runWith(t, f, "list", "-q"); code != 0 || strings.Contains(out, "shop2") {
		t.Fatalf("shop2 installed: %q", out)
	}
	if code, _, errs := runWith(t, f, "upgrade", "shop", dest+"/app", "--plain-http", "--policy", policy); code == 0 || !strings.Contains(errs, "tampered") {
		t.Fatalf("upgrade tampered: %d %q", code, errs)
	}
}
