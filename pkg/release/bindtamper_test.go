package release

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// addEvilClaims adds testutil.EvilClaims to the claim templates of the bundle.yaml
// a record carries.
func addEvilClaims(t *testing.T) func(*helmrelease.Release) {
	return func(r *helmrelease.Release) {
		t.Helper()
		for _, f := range r.Chart.Files {
			if f.Name == bundle.FileName {
				y := string(f.Data)
				if !strings.Contains(y, "  templates:\n") {
					t.Fatalf("no claim templates in the record's %s:\n%s", bundle.FileName, y)
				}
				f.Data = []byte(strings.Replace(y, "  templates:\n", "  templates:\n"+testutil.EvilClaims, 1))
				return
			}
		}
		t.Fatalf("the record of %s carries no %s", r.Name, bundle.FileName)
	}
}

// A provider's record rewritten (claim templates added, its outputs
// annotation pointed elsewhere) changes nothing a consumer renders: the
// claims and outputs come from the bundle as the repository serves it, on
// install and on every upgrade. Fails before the fix: the added templates
// rendered in the consumer's release, and the recorded outputs wired it.
func TestBindTamperedProviderRecord(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t) // c is of namespace team
	claimLab(t, lab)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	src := func(name string) InstallOptions {
		return InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=shared"}}, ReleaseName: name}
	}
	// A consumer of the provider's namespace reads its record (one of
	// another namespace reads its grant: grant_test.go).
	c = data
	wiki, err := c.Install(ctx, src("wiki"))
	if err != nil {
		t.Fatal(err)
	}
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) {
		addEvilClaims(t)(r)
		r.Chart.Metadata.Annotations[plan.OutputsAnnotation] = `{"host":"db.evil.example.com","secret":"team-secrets"}`
	})
	blog, err := c.Install(ctx, src("blog"))
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Upgrade(ctx, UpgradeOptions{Source: plan.Source{Reference: "lab/capp"}, ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]string{"a consumer installed after": blog.Manifest, "a consumer upgraded after": up.Manifest} {
		for _, bad := range []string{"stolen", "pwned", "mallory", "evil", "team-secrets"} {
			if strings.Contains(m, bad) {
				t.Errorf("%s the record was tampered with renders %q:\n%s", name, bad, m)
			}
		}
	}
	if !strings.Contains(blog.Manifest, `host: "shared-db.data.svc"`) || !strings.Contains(blog.Manifest, `secret: "blog-database"`) {
		t.Errorf("the consumer is not wired to the provider as its repository bundle says:\n%s", blog.Manifest)
	}
	if up.Manifest != wiki.Manifest {
		t.Errorf("an upgrade with the same inputs after the record was tampered with changed the consumer:\n%s\nwas\n%s", up.Manifest, wiki.Manifest)
	}
}

// A provider records its root bundle's digest, as a lock would: a
// binding refuses, in one line, a provider whose recorded digest is not
// what its repository serves at that version, and a version the
// repository does not serve. A provider that recorded no digest (installed
// by an earlier version) is bound from the repository as it is. Fails
// before the fix: nothing was recorded, and every case was bound.
func TestBindProviderDigest(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	data := NewWithEnv(envOf(f), c.repos)
	if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/cdb"}, ReleaseName: "shared"}); err != nil {
		t.Fatal(err)
	}
	served, err := lab.Load(ctx, "cdb", mustVersion(t, "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := served.Digest()
	if err != nil {
		t.Fatal(err)
	}
	rec := f.Last(t, "shared").Chart.Metadata.Annotations
	if rec[plan.DigestAnnotation] != want {
		t.Fatalf("the provider records digest %q, want %q (its bundle's, as a lock records it)", rec[plan.DigestAnnotation], want)
	}
	bind := func() error {
		t.Helper()
		_, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=shared"}}, ReleaseName: "wiki", DryRun: true})
		return err
	}
	oneLine := func(name string, err error, kind error, parts ...string) {
		t.Helper()
		if err == nil || !errors.Is(err, kind) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line of kind %v", name, err, kind)
			return
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %q lacks %q", name, err, p)
			}
		}
	}

	// The record's digest rewritten.
	bogus := "sha256:" + strings.Repeat("0", 64)
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) { r.Chart.Metadata.Annotations[plan.DigestAnnotation] = bogus })
	oneLine("a rewritten digest", bind(), errdefs.ErrStale,
		"bind database=data/shared: provider data/shared records cdb 1.0.0 with digest "+bogus+", but lab serves "+want+": the record or the repository changed")

	// No digest recorded: bound from the repository.
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) { delete(r.Chart.Metadata.Annotations, plan.DigestAnnotation) })
	if err := bind(); err != nil {
		t.Errorf("a provider that recorded no digest: %v", err)
	}

	// The repository's content changed under the same version.
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) { r.Chart.Metadata.Annotations[plan.DigestAnnotation] = want })
	lab.Put(t, "cdb", "1.0.0", map[string]string{"bundle.yaml": "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: x\n  secret: y\n"})
	changed, err := lab.Load(ctx, "cdb", mustVersion(t, "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	now, _ := changed.Digest()
	oneLine("the repository changed", bind(), errdefs.ErrStale, "records cdb 1.0.0 with digest "+want+", but lab serves "+now)

	// A version the repository does not serve (within the constraint).
	f.Tamper(t, "data", "shared", func(r *helmrelease.Release) { r.Chart.Metadata.Version = "1.0.7" })
	oneLine("a version not served", bind(), errdefs.ErrNotFound, "bind database=data/shared: release data/shared has cdb 1.0.7, which lab does not serve")
}

func mustVersion(t *testing.T, s string) *semver.Version {
	t.Helper()
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A provider installed from a directory records no repository and its
// bundle's package digest: it is bound when that is the digest of the
// bundle the requirement's repository serves at its version (a copy,
// bundle pull --untar), and refused in one line when the directory's
// content differs. Fails before the fix: both were bound.
func TestBindProviderFromDirectory(t *testing.T) {
	ctx := context.Background()
	lab, f, c := bindLab(t)
	claimLab(t, lab)
	data := NewWithEnv(envOf(f), c.repos)
	served, err := lab.Load(ctx, "cdb", mustVersion(t, "1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	same, changed := filepath.Join(t.TempDir(), "cdb"), filepath.Join(t.TempDir(), "cdb")
	for _, dir := range []string{same, changed} {
		if _, err := served.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(changed, "templates", "extra.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"copy": same, "fork": changed} {
		if _, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: dir}, ReleaseName: name}); err != nil {
			t.Fatal(err)
		}
	}
	bind := func(provider string) error {
		_, err := data.Install(ctx, InstallOptions{Source: plan.Source{Reference: "lab/capp", Bind: []string{"database=" + provider}}, ReleaseName: "wiki", DryRun: true})
		return err
	}
	if err := bind("copy"); err != nil {
		t.Errorf("a provider installed from a copy of the repository's bundle: %v", err)
	}
	err = bind("fork")
	if err == nil || !errors.Is(err, errdefs.ErrStale) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), "bind database=data/fork: provider data/fork was installed from a directory or an archive as cdb 1.0.0 with digest sha256:") ||
		!strings.Contains(err.Error(), "which is not cdb 1.0.0 as lab serves it") {
		t.Errorf("a provider installed from a directory whose content is not the repository's: %v", err)
	}
}
