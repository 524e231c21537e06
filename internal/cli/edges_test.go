package cli

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const secret = "s3cr3t-pa55"

// Credentials never go in an address: each way of giving one is refused in
// one line that does not show the password and says what to do instead.
func TestCredentialsInAddresses(t *testing.T) {
	app := appRequiringLeaf(t, "https://me:"+secret+"@charts.example.com/x")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"repo add", "", []string{"repo", "add", "x", "https://me:" + secret + "@charts.example.com/x"}, ExitError,
			"Error: repository x: the address https://charts.example.com/x holds a user name or password, which would be stored and printed with the address: use --username and --password-stdin"},
		{"repo add with --username too", secret + "\n", []string{"repo", "add", "x", "https://me:" + secret + "@charts.example.com/x", "--username", "me", "--password-stdin"}, ExitError,
			"Error: repository x: the address https://charts.example.com/x holds a user name or password"},
		{"password over plain http", secret + "\n", []string{"repo", "add", "x", "http://127.0.0.1:1/x", "--username", "me", "--password-stdin"}, ExitError,
			"Error: repository x: refusing to send a password over plain http to 127.0.0.1:1, where anyone on the way can read it: give an https address: use --plain-http-credentials"},
		{"--password-stdin alone", secret + "\n", []string{"repo", "add", "x", "https://charts.example.com/x", "--password-stdin"}, ExitUsage,
			"Error: --password-stdin needs --username"},
		{"no password", "", []string{"repo", "add", "x", "https://charts.example.com/x", "--username", "me"}, ExitUsage,
			"Error: no password: pass it on standard input with --password-stdin"},
		{"requirement", "", []string{"template", app}, ExitError,
			"bundle.yaml:6: requires.store.repository: the address https://charts.example.com/x holds a user name or password (drop them, and name the repository here once it is added with its credentials kept apart): run bundle repo add NAME https://charts.example.com/x with --username and --password-stdin"},
		{"bundle reference", "", []string{"repo", "index", t.TempDir(), "--url", "https://me:" + secret + "@charts.example.com/x"}, ExitError,
			"Error: --url \"https://charts.example.com/x\": holds a user name or password, which would be published in index.yaml"},
		{"oci", "", []string{"pull", "oci://me:" + secret + "@registry.example.com/ns/leaf"}, ExitError,
			"Error: oci://registry.example.com/ns holds a user name or password, which would be stored and printed with the address: drop them: run bundle login registry.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runStdin(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q\nwant exit %d, stderr with %q", code, errs, tt.code, tt.want)
			}
			if strings.Contains(out+errs, secret) || strings.Count(errs, "\n") != 1 {
				t.Errorf("not one line, or shows the password: %q", errs)
			}
		})
	}
}

// A repository added with a user name and password: the password is read
// from standard input, kept in a file only the user reads, sent with every
// request (here over plain http, as allowed), listed never; the user name
// is listed.
func TestRepoAddWithCredentials(t *testing.T) {
	url, _ := serveCharts(t)
	inner := strings.TrimPrefix(url, "http://")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != secret {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		r.URL.Scheme, r.URL.Host, r.RequestURI = "http", inner, ""
		r.Header.Del("Authorization")
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		w.Write(b.Bytes())
	}))
	defer srv.Close()

	if code, _, errs := runStdin(t, "", "repo", "add", "private", srv.URL); code != ExitError || !strings.Contains(errs, "401 Unauthorized (no credentials were sent: add the repository with its user name and password)") {
		t.Fatalf("without credentials: %d %q", code, errs)
	}
	code, out, errs := runStdin(t, secret+"\n", "repo", "add", "private", srv.URL, "--username", "me", "--password-stdin", "--plain-http-credentials")
	if code != 0 {
		t.Fatalf("repo add: %d %q", code, errs)
	}
	defer runStdin(t, "", "repo", "remove", "private")
	if strings.Contains(out+errs, secret) {
		t.Errorf("repo add printed the password")
	}
	for _, args := range [][]string{{"repo", "list"}, {"repo", "list", "-o", "json"}} {
		code, out, _ := runStdin(t, "", args...)
		if code != 0 || strings.Contains(out, secret) || !strings.Contains(out, "me") {
			t.Errorf("%v: %q", args, out)
		}
	}
	if code, out, errs := runStdin(t, "", "template", "r", "private/leaf"); code != 0 || !strings.Contains(out, "name: r-leaf") {
		t.Fatalf("download with the stored credentials: %d %q", code, errs)
	}
	config := filepath.Join(os.Getenv("BUNDLE_CONFIG_HOME"), "repositories.yaml")
	for _, f := range []string{config, filepath.Join(os.Getenv("BUNDLE_CONFIG_HOME"), "repository-credentials.yaml")} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", f, st.Mode(), err)
		}
	}
}

// neverAnswers is a server that accepts connections and reads requests but
// never answers.
func neverAnswers(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l.Addr().String()
}

// SIGINT and SIGTERM end a command within a second, with a non-zero code
// (the shells' 128 + signal) and one line: while it waits for a server
// that never answers, and while it waits for a password on a silent
// standard input.
func TestSignalsEndCommands(t *testing.T) {
	bin, _ := buildBundle(t)
	addr := neverAnswers(t)
	tests := []struct {
		name  string
		args  []string
		stdin bool // an open, silent standard input
		sig   syscall.Signal
		code  int
		want  string
	}{
		{"repo add, SIGINT", []string{"repo", "add", "x", "http://" + addr}, false, syscall.SIGINT, 130, "Error: interrupted (SIGINT)\n"},
		{"repo add, SIGTERM", []string{"repo", "add", "x", "http://" + addr}, false, syscall.SIGTERM, 143, "Error: interrupted (SIGTERM)\n"},
		{"password on stdin, SIGINT", []string{"repo", "add", "x", "https://" + addr, "--username", "me", "--password-stdin"}, true, syscall.SIGINT, 130, "Error: interrupted (SIGINT)\n"},
		{"password on stdin, SIGTERM", []string{"repo", "add", "x", "https://" + addr, "--username", "me", "--password-stdin"}, true, syscall.SIGTERM, 143, "Error: interrupted (SIGTERM)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append(os.Environ(), "BUNDLE_CONFIG_HOME="+t.TempDir(), "BUNDLE_CACHE_HOME="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if tt.stdin {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				defer r.Close()
				cmd.Stdin = r
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			time.Sleep(300 * time.Millisecond)
			cmd.Process.Signal(tt.sig)
			sent := time.Now()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 5s after %s", tt.sig)
			}
			if took := time.Since(sent); took > time.Second {
				t.Errorf("ended %s after %s", took, tt.sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if stderr.String() != tt.want {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.want)
			}
		})
	}
}
