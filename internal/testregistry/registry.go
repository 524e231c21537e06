// Package testregistry runs the distribution registry (the reference OCI
// registry) in-process and in memory, for tests. Only tests import it.
package testregistry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/distribution/distribution/v3/configuration"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd" // authentication
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // storage
	"github.com/sirupsen/logrus"
)

// Start runs a registry over plain HTTP until the test ends and returns
// its HOST:PORT.
func Start(t testing.TB) string {
	t.Helper()
	return start(t, nil)
}

// StartWithLogin is Start with htpasswd authentication for one user.
func StartWithLogin(t testing.TB, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, configuration.Auth{"htpasswd": configuration.Parameters{"realm": "test", "path": file}})
}

// StartTLS is Start over HTTPS with httptest's self-signed certificate.
func StartTLS(t testing.TB) string {
	t.Helper()
	return serve(t, nil, httptest.NewTLSServer)
}

func start(t testing.TB, auth configuration.Auth) string {
	return serve(t, auth, httptest.NewServer)
}

// Server is a registry a test can watch and stop.
type Server struct {
	// Host is its HOST:PORT.
	Host string
	srv  *httptest.Server
	// uploads counts the blob uploads started (POST .../blobs/uploads/)
	// and manifests put.
	blobs, manifests atomic.Int64
	refuse           atomic.Pointer[string]
}

// Refuse answers 403 Forbidden to every write whose path holds part ("" to
// accept them all again), as a registry failing halfway would.
func (s *Server) Refuse(part string) { s.refuse.Store(&part) }

// StartServer is Start returning a Server.
func StartServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.Host = serveWrapped(t, nil, httptest.NewServer, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := s.refuse.Load(); p != nil && *p != "" && r.Method != http.MethodGet && r.Method != http.MethodHead && strings.Contains(r.URL.Path, *p) {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"refused by the test"}]}`, http.StatusForbidden)
				return
			}
			switch {
			case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/"):
				s.blobs.Add(1)
			case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/"):
				s.manifests.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}, &s.srv)
	return s
}

// Uploads returns the blob uploads started and the manifests put so far.
func (s *Server) Uploads() (blobs, manifests int64) { return s.blobs.Load(), s.manifests.Load() }

// Stop stops the registry: its address answers no more.
func (s *Server) Stop() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func serve(t testing.TB, auth configuration.Auth, newServer func(http.Handler) *httptest.Server) string {
	return serveWrapped(t, auth, newServer, nil, nil)
}

func serveWrapped(t testing.TB, auth configuration.Auth, newServer func(http.Handler) *httptest.Server, wrap func(http.Handler) http.Handler, out **httptest.Server) string {
	cfg := &configuration.Configuration{}
	cfg.Auth = auth
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	logrus.SetOutput(io.Discard) // the registry logs every request
	var h http.Handler = handlers.NewApp(context.Background(), cfg)
	if wrap != nil {
		h = wrap(h)
	}
	srv := newServer(h)
	t.Cleanup(srv.Close)
	if out != nil {
		*out = srv
	}
	_, host, _ := strings.Cut(srv.URL, "://")
	return host
}

// Image pushes a single-platform image with one random layer to
// HOST/REPO:TAG (plain HTTP) and returns its manifest digest. Pushing to a
// tag again moves the tag to a new image.
func Image(t testing.TB, host, repository, tag string) string {
	t.Helper()
	r := repo(t, host, repository)
	desc := pushImage(t, r, "linux", "amd64")
	if err := r.Tag(context.Background(), desc, tag); err != nil {
		t.Fatal(err)
	}
	return desc.Digest.String()
}

// Index pushes a multi-platform image (an OCI index of one random image
// per platform, "linux/amd64") to HOST/REPO:TAG and returns the index's
// digest.
func Index(t testing.TB, host, repository, tag string, platforms ...string) string {
	t.Helper()
	r := repo(t, host, repository)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, p := range platforms {
		osName, arch, _ := strings.Cut(p, "/")
		d := pushImage(t, r, osName, arch)
		d.Platform = &ocispec.Platform{OS: osName, Architecture: arch}
		idx.Manifests = append(idx.Manifests, d)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.TagBytes(context.Background(), r, ocispec.MediaTypeImageIndex, data, tag)
	if err != nil {
		t.Fatal(err)
	}
	return desc.Digest.String()
}

func repo(t testing.TB, host, repository string) *remote.Repository {
	r, err := remote.NewRepository(host + "/" + repository)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	return r
}

// pushImage pushes a config, a random layer and their manifest, untagged.
func pushImage(t testing.TB, r *remote.Repository, osName, arch string) ocispec.Descriptor {
	ctx := context.Background()
	layer := make([]byte, 256)
	if _, err := rand.Read(layer); err != nil {
		t.Fatal(err)
	}
	config, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: osName, Architecture: arch}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}}})
	blobs := []ocispec.Descriptor{
		content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, config),
		content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, layer),
	}
	for i, data := range [][]byte{config, layer} {
		if err := r.Push(ctx, blobs[i], bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	manifest, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: blobs[0], Layers: blobs[1:]})
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manifest)
	if err := r.Push(ctx, desc, bytes.NewReader(manifest)); err != nil {
		t.Fatal(err)
	}
	return desc
}
