package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"oras.land/oras-go/v2"

	"github.com/bundlesh/bundle/internal/testregistry"
)

func startRegistry(t *testing.T) string { return testregistry.Start(t) }

func TestOCIPushPullResolve(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	o, err := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := o.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 1\n"), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := o.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 1\n"), PushOptions{}); err != nil || again != d1 {
		t.Fatalf("pushing the same package again: %s %v (want %s)", again, err, d1)
	}
	if _, err := o.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 2\n"), PushOptions{}); err == nil || !strings.Contains(err.Error(), "already exists with other content") {
		t.Fatalf("overwrite without --force: %v", err)
	}
	if _, err := o.Push(ctx, testregistry.Leaf(t, "1.1.0+b1", "a: 3\n"), PushOptions{}); err != nil {
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
	s := NewSetWith(nil, SetOptions{OCI: OCIOptions{PlainHTTP: true}})
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
	pkg := testregistry.Leaf(t, "2.0.0", "a: 1\n")
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

func TestOCIProgressAndCorruptBlob(t *testing.T) {
	ctx := context.Background()
	host := startRegistry(t)
	var bar strings.Builder
	o, _ := NewOCI("oci://"+host+"/bundles", OCIOptions{PlainHTTP: true, Progress: &bar})
	if _, err := o.Push(ctx, testregistry.Leaf(t, "1.0.0", "a: 1\n"), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(bar.String(), "100%") || !strings.Contains(bar.String(), "chart sha256:") {
		t.Errorf("no progress bar: %q", bar.String())
	}

	// A proxy that corrupts the chart layer: the pull is refused.
	bad, _ := NewOCI("oci://"+corruptingProxy(t, host, 101)+"/bundles", OCIOptions{PlainHTTP: true})
	if _, err := bad.Load(ctx, "leaf", semver.MustParse("1.0.0")); err == nil || !strings.Contains(err.Error(), "mismatch") {
		t.Errorf("corrupted blob: %v", err)
	}
}

// corruptingProxy serves the registry at host through a proxy that flips
// the middle byte of every blob of min bytes or more it sends, and returns
// the proxy's host; it stops with the test.
func corruptingProxy(t *testing.T, host string, min int) string {
	t.Helper()
	target, _ := url.Parse("http://" + host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || !strings.Contains(resp.Request.URL.Path, "/blobs/") {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if len(body) >= min {
			body[len(body)/2] ^= 0xff
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
