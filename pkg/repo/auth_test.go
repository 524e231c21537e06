package repo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

const secret = "s3cr3t-pa55"

// Addresses with credentials in them are refused wherever an address is
// given, in one line that never shows the password.
func TestCredentialsInAddressesRefused(t *testing.T) {
	cfg, _ := LoadConfig(filepath.Join(t.TempDir(), "repositories.yaml"), t.TempDir())
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"repo add", func() error {
			return cfg.Add(context.Background(), "x", "https://me:"+secret+"@charts.example.com/x", HTTPOptions{})
		}, "repository x: the address https://charts.example.com/x holds a user name or password"},
		{"repo add, token as user", func() error {
			return cfg.Add(context.Background(), "x", "https://"+secret+"@charts.example.com", HTTPOptions{})
		}, "repository x: the address https://charts.example.com holds a user name or password"},
		{"unparsable address", func() error {
			return cfg.Add(context.Background(), "x", "https://me:"+secret+" %@charts.example.com/x", HTTPOptions{})
		}, "repository x: the address https://charts.example.com/x holds a user name or password"},
		{"requirement by address", func() error {
			_, err := NewSet(nil).repo("https://me:" + secret + "@charts.example.com/x")
			return err
		}, "repository https://charts.example.com/x: the address https://charts.example.com/x holds a user name or password"},
		{"oci address", func() error {
			_, err := NewOCI("oci://me:"+secret+"@registry.example.com/ns", OCIOptions{})
			return err
		}, "oci://registry.example.com/ns holds a user name or password"},
		{"repo index --url", func() error {
			_, err := IndexDir(t.TempDir(), "https://me:"+secret+"@charts.example.com/x")
			return err
		}, `URL "https://charts.example.com/x": holds a user name or password`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q...", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error shows the secret or is not one line: %q", err)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("does not match ErrInvalid")
			}
		})
	}
	if len(cfg.Repositories) != 0 {
		t.Errorf("recorded %v", cfg.Repositories)
	}
}

// authServer serves an empty index to requests with the right password and
// records the Authorization header of each request.
func authServer(t *testing.T, tls bool) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != secret {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(emptyIndex))
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &seen
}

// Credentials go as basic authentication over https; over plain http only
// when the user allowed it; never to another host or down a redirect to
// plain http; refusals never show the password.
func TestBasicAuth(t *testing.T) {
	auth := &BasicAuth{Username: "me", Password: secret}
	// fetch fetches the index from url with opts.
	fetch := func(t *testing.T, url string, opts HTTPOptions) {
		t.Helper()
		h, err := NewHTTP("r", url, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.FetchIndex(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("https", func(t *testing.T) {
		srv, _ := authServer(t, true)
		fetch(t, srv.URL, HTTPOptions{Client: srv.Client(), Auth: auth})
	})
	t.Run("plain http refused", func(t *testing.T) {
		srv, seen := authServer(t, false)
		_, err := NewHTTP("r", srv.URL, HTTPOptions{Auth: auth})
		if err == nil || !strings.Contains(err.Error(), "refusing to send a password over plain http") || strings.Contains(err.Error(), secret) {
			t.Fatalf("error = %v", err)
		}
		if len(*seen) != 0 {
			t.Errorf("%d requests sent", len(*seen))
		}
	})
	t.Run("plain http allowed", func(t *testing.T) {
		srv, _ := authServer(t, false)
		fetch(t, srv.URL, HTTPOptions{Auth: &BasicAuth{Username: "me", Password: secret, PlainHTTP: true}})
	})
	t.Run("wrong password", func(t *testing.T) {
		srv, _ := authServer(t, true)
		h, _ := NewHTTP("r", srv.URL, HTTPOptions{Client: srv.Client(), Auth: &BasicAuth{Username: "me", Password: "wrong-" + secret}})
		_, err := h.FetchIndex(context.Background())
		if err == nil || !strings.HasSuffix(err.Error(), "401 Unauthorized (the password of user me was refused)") || strings.Contains(err.Error(), secret) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("redirect to plain http", func(t *testing.T) {
		plain, seen := authServer(t, false)
		tlsSrv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/index.yaml", http.StatusFound))
		defer tlsSrv.Close()
		// The same host name on both sides: Go would keep the header.
		h, _ := NewHTTP("r", tlsSrv.URL, HTTPOptions{Client: tlsSrv.Client(), Auth: auth})
		h.FetchIndex(context.Background())
		if len(*seen) != 1 || (*seen)[0] != "" {
			t.Errorf("the plain http server saw Authorization %q", *seen)
		}
	})
	t.Run("archive on another host", func(t *testing.T) {
		other, seen := authServer(t, false)
		index := "apiVersion: v1\nentries:\n  leaf:\n  - {name: leaf, version: 1.0.0, urls: [" + other.URL + "/leaf-1.0.0.tgz]}\n"
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(index)) }))
		defer srv.Close()
		h, _ := NewHTTP("r", srv.URL, HTTPOptions{Client: srv.Client(), Auth: &BasicAuth{Username: "me", Password: secret, PlainHTTP: true}})
		h.Load(context.Background(), "leaf", semver.MustParse("1.0.0"))
		if len(*seen) != 1 || (*seen)[0] != "" {
			t.Errorf("the other host saw Authorization %q", *seen)
		}
	})
}

// The password is kept apart from repositories.yaml, in a file only the
// user can read; repositories.yaml too is the user's only while it names a
// user; removing the repository forgets the password.
func TestCredentialsStored(t *testing.T) {
	srv, _ := authServer(t, false)
	dir := t.TempDir()
	file := filepath.Join(dir, "repositories.yaml")
	cfg, _ := LoadConfig(file, t.TempDir())
	if err := cfg.Add(context.Background(), "open", srv.URL+"/x", HTTPOptions{Auth: &BasicAuth{Username: "me", Password: secret, PlainHTTP: true}}); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		st, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return st.Mode().Perm()
	}
	repos, _ := os.ReadFile(file)
	if strings.Contains(string(repos), secret) || !strings.Contains(string(repos), "username: me") || mode(file) != 0o600 {
		t.Errorf("repositories.yaml (%04o):\n%s", mode(file), repos)
	}
	creds, _ := os.ReadFile(CredentialsFile(file))
	if !strings.Contains(string(creds), secret) || mode(CredentialsFile(file)) != 0o600 {
		t.Errorf("credentials file (%04o) does not hold the password", mode(CredentialsFile(file)))
	}
	// Read back, the repository is reached with its credentials.
	cfg, _ = LoadConfig(file, cfg.cacheDir)
	if err := cfg.Update(context.Background(), HTTPOptions{}); err != nil {
		t.Fatalf("update with the stored credentials: %v", err)
	}
	// Others may read the file: refused, the password unread.
	os.Chmod(CredentialsFile(file), 0o644)
	if _, err := cfg.Set(SetOptions{}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable credentials: %v", err)
	}
	os.Chmod(CredentialsFile(file), 0o600)
	if err := cfg.Remove("open"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(CredentialsFile(file)); !os.IsNotExist(err) {
		t.Errorf("credentials file left behind: %v", err)
	}
	if mode(file) != 0o644 {
		t.Errorf("repositories.yaml without credentials: %04o", mode(file))
	}
}
