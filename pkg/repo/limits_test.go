package repo

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
)

// fakeRegistry answers the OCI distribution API's manifest requests for
// oci://HOST/ns/leaf:1.0.0 with manifest.
func fakeRegistry(t *testing.T, manifest []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2/ns/leaf/manifests/") {
			w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
			w.Header().Set("Content-Length", fmt.Sprint(len(manifest)))
			if r.Method == http.MethodGet {
				w.Write(manifest)
			}
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Downloads over a size limit are refused with the limit named: an OCI
// manifest, an OCI chart layer, and an archive from an http repository
// that decompresses (Content-Encoding: gzip) past it.
func TestDownloadLimits(t *testing.T) {
	layer, _ := json.Marshal(ocispec.Manifest{
		Config: ocispec.Descriptor{MediaType: ConfigMediaType, Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", Size: 2},
		Layers: []ocispec.Descriptor{{MediaType: ChartLayerMediaType, Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", Size: 1 << 30}},
	})
	huge := []byte(`{"schemaVersion":2,"x":"` + strings.Repeat("x", maxManifestSize) + `"}`)
	v := semver.MustParse("1.0.0")
	t.Run("OCI manifest", func(t *testing.T) {
		o, _ := NewOCI("oci://"+fakeRegistry(t, huge)+"/ns", OCIOptions{PlainHTTP: true})
		_, err := o.Load(context.Background(), "leaf", v)
		if want := fmt.Sprintf("manifest over the %d-byte limit", maxManifestSize); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("error = %v, want ...%s", err, want)
		}
	})
	t.Run("OCI layer", func(t *testing.T) {
		o, _ := NewOCI("oci://"+fakeRegistry(t, layer)+"/ns", OCIOptions{PlainHTTP: true})
		_, err := o.Load(context.Background(), "leaf", v)
		if want := fmt.Sprintf("chart layer is 1073741824 bytes, over the %d-byte limit", bundle.MaxTotalSize); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("error = %v, want ...%s", err, want)
		}
	})
	t.Run("http archive", func(t *testing.T) {
		if testing.Short() {
			t.Skip("decompresses 100 MB")
		}
		index := "apiVersion: v1\nentries:\n  leaf:\n  - {name: leaf, version: 1.0.0, urls: [leaf-1.0.0.tgz]}\n"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/index.yaml" {
				w.Write([]byte(index))
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			zeros := make([]byte, 1<<20)
			for i := 0; i <= bundle.MaxTotalSize>>20; i++ {
				if _, err := zw.Write(zeros); err != nil {
					return
				}
			}
			zw.Close()
		}))
		defer srv.Close()
		h, _ := NewHTTP("r", srv.URL, HTTPOptions{})
		_, err := h.Load(context.Background(), "leaf", v)
		if want := fmt.Sprintf("response over the %d-byte limit", bundle.MaxTotalSize); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("error = %v, want ...%s", err, want)
		}
	})
}

// Registry requests are bounded like repository ones: a registry that never
// answers fails the request in time.
func TestOCITimeouts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	o, _ := NewOCI("oci://"+strings.TrimPrefix(srv.URL, "http://")+"/ns", OCIOptions{PlainHTTP: true, Timeouts: Timeouts{ResponseHeader: 200 * time.Millisecond, Request: time.Second}})
	start := time.Now()
	_, err := o.Versions(context.Background(), "leaf")
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s: %v", took, err)
	}
}
