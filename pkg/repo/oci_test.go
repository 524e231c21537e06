package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart/loader"
	"oras.land/oras-go/v2"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/bundle"
)

func startRegistry(t *testing.T) string { return testregistry.Start(t) }

func packageBundle(t *testing.T, version, data string) []byte {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: leaf\nversion: "+version+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(data), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644)
	b, err := bundle.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := b.Package()
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestOCIPushPullResolve(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	o, err := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := o.Push(ctx, packageBundle(t, "1.0.0", "a: 1\n"), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := o.Push(ctx, packageBundle(t, "1.0.0", "a: 1\n"), PushOptions{}); err != nil || again != d1 {
		t.Fatalf("pushing the same package again: %s %v (want %s)", again, err, d1)
	}
	if _, err := o.Push(ctx, packageBundle(t, "1.0.0", "a: 2\n"), PushOptions{}); err == nil || !strings.Contains(err.Error(), "already exists with other content") {
		t.Fatalf("overwrite without --force: %v", err)
	}
	if _, err := o.Push(ctx, packageBundle(t, "1.1.0+b1", "a: 3\n"), PushOptions{}); err != nil {
		t.Fatal(err)
	}

	// Tags are versions; "+" travels as "_".
	vs, err := o.Versions(ctx, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}
	b, err := o.Load(ctx, "leaf", semver.MustParse("1.1.0+b1"))
	if err != nil || b.Version.String() != "1.1.0+b1" {
		t.Fatalf("load 1.1.0+b1: %v %v", b, err)
	}
	// By digest.
	b, got, err := o.Pull(ctx, "leaf", d1)
	if err != nil || got != d1 || b.Version.String() != "1.0.0" {
		t.Fatalf("pull by digest: %v %s %v", b, got, err)
	}
	// A requirement from the registry, through a Set.
	s := NewSet(nil)
	s.SetOCI(OCIOptions{PlainHTTP: true})
	ref, err := ParseReference("oci://" + host + "/bundles/leaf")
	if err != nil {
		t.Fatal(err)
	}
	vs2, err := s.Versions(ctx, ref.Ref)
	if err != nil || len(vs2) != 2 {
		t.Fatalf("set versions: %v %v", vs2, err)
	}
	if _, err := o.Versions(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bundle: %v", err)
	}
}

func TestOCIArtifactIsAHelmChart(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	o, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})
	pkg := packageBundle(t, "2.0.0", "a: 1\n")
	if _, err := o.Push(ctx, pkg, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	r, _ := o.repository("leaf")
	_, manifest, err := oras.FetchBytes(ctx, r, "2.0.0", oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(manifest), ConfigMediaType) || !strings.Contains(string(manifest), ChartLayerMediaType) {
		t.Errorf("manifest lacks Helm's media types: %s", manifest)
	}
	if _, err := loader.LoadArchive(strings.NewReader(string(pkg))); err != nil {
		t.Errorf("Helm cannot load the layer: %v", err)
	}
}
