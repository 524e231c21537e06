package repo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/bundlesh/bundle/internal/testregistry"
	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

func imageRef(t *testing.T, s string) bundle.ImageRef {
	t.Helper()
	r, err := bundle.ParseImage(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestImagesDigest(t *testing.T) {
	ctx := context.Background()
	host := testregistry.Start(t)
	single := testregistry.Image(t, host, "team/app", "1.0")
	index := testregistry.Index(t, host, "team/multi", "2", "linux/amd64", "linux/arm64")
	imgs := NewImages(OCIOptions{PlainHTTP: true})
	for ref, want := range map[string]string{host + "/team/app:1.0": single, host + "/team/multi:2": index} {
		if got, err := imgs.Digest(ctx, imageRef(t, ref)); err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s (an index's own digest)", ref, got, err, want)
		}
	}
	// A reference by digest is its own answer.
	if got, err := imgs.Digest(ctx, imageRef(t, "nowhere.invalid/x@"+single)); err != nil || got != single {
		t.Errorf("by digest: %s %v", got, err)
	}
	_, err := imgs.Digest(ctx, imageRef(t, host+"/team/app:9"))
	if !errors.Is(err, ErrNotFound) || err.Error() != "image "+host+"/team/app:9 not found in its registry" {
		t.Errorf("missing tag: %v", err)
	}
}

// TLS is verified unless the user says otherwise.
func TestImagesTLSVerified(t *testing.T) {
	host := testregistry.StartTLS(t)
	ref := imageRef(t, host+"/team/app:1")
	_, err := NewImages(OCIOptions{}).Digest(context.Background(), ref)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("self-signed certificate accepted: %v", err)
	}
	// Skipping verification reaches the registry, which has no such image.
	if _, err := NewImages(OCIOptions{Insecure: true}).Digest(context.Background(), ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("with Insecure: %v", err)
	}
}

// The logins of bundle login (docker login) are used; without one the
// error says to log in.
func TestImagesCredentials(t *testing.T) {
	host := testregistry.StartWithLogin(t, "alice", "pw")
	ref := imageRef(t, host+"/team/app:1")
	_, err := NewImages(OCIOptions{PlainHTTP: true}).Digest(context.Background(), ref)
	var fe *errdefs.Error
	if !errors.As(err, &fe) || fe.Fixes[0].Run[0] != "login" || !strings.Contains(err.Error(), "401") {
		t.Errorf("without a login: %v", err)
	}
	store := credentials.NewMemoryStore()
	store.Put(context.Background(), host, auth.Credential{Username: "alice", Password: "pw"})
	if _, err := NewImages(OCIOptions{PlainHTTP: true, Credentials: store}).Digest(context.Background(), ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("with a login: %v", err)
	}
}

// roundTrip answers every request with a manifest digest, recording it.
type roundTrip struct{ reqs []*http.Request }

func (r *roundTrip) Do(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	h := http.Header{}
	h.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	h.Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
	h.Set("Content-Length", "100")
	return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody, ContentLength: 100, Request: req}, nil
}

// A Docker Hub short name is asked of Docker Hub's registry API host.
func TestImagesDockerHub(t *testing.T) {
	rt := &roundTrip{}
	d, err := NewImages(OCIOptions{Client: rt}).Digest(context.Background(), imageRef(t, "mariadb:11.4"))
	if err != nil || d != "sha256:"+strings.Repeat("a", 64) {
		t.Fatalf("%s %v", d, err)
	}
	u := rt.reqs[0].URL
	if u.Host != "registry-1.docker.io" || u.Path != "/v2/library/mariadb/manifests/11.4" || u.Scheme != "https" {
		t.Errorf("asked %s", u)
	}
	if acc := rt.reqs[0].Header.Get("Accept"); !strings.Contains(acc, "application/vnd.oci.image.index.v1+json") || !strings.Contains(acc, "manifest.list") {
		t.Errorf("Accept %q does not take indexes", acc)
	}
}
