// Package testregistry runs the distribution registry (the reference OCI
// registry) in-process and in memory, for tests. Only tests import it.
package testregistry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

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

func serve(t testing.TB, auth configuration.Auth, newServer func(http.Handler) *httptest.Server) string {
	cfg := &configuration.Configuration{}
	cfg.Auth = auth
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	logrus.SetOutput(io.Discard) // the registry logs every request
	srv := newServer(handlers.NewApp(context.Background(), cfg))
	t.Cleanup(srv.Close)
	_, host, _ := strings.Cut(srv.URL, "://")
	return host
}
