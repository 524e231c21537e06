package repo

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

const emptyIndex = "apiVersion: v1\nentries: {}\n"

// A server error (5xx) is retried, four requests in all, then given up in
// one line; a client error (4xx) is not retried.
func TestHTTPRetries(t *testing.T) {
	tests := []struct {
		name   string
		status int    // the server answers its first fails requests so,
		fails  int32  // and then serves the index
		want   string // in the error; "" for none
		calls  int32
	}{
		{"two 503s then 200", http.StatusServiceUnavailable, 2, "", 3},
		{"gives up in one line", http.StatusBadGateway, 4, "502 Bad Gateway (after 4 attempts)", 4},
		{"does not retry client errors", http.StatusForbidden, 1, "403 Forbidden", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) <= tt.fails {
					http.Error(w, "busy", tt.status)
					return
				}
				w.Write([]byte(emptyIndex))
			}))
			defer srv.Close()
			h, err := NewHTTP("r", srv.URL, HTTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.index(context.Background())
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("error = %v, want one line with %q", err, tt.want)
			}
			if n := calls.Load(); n != tt.calls {
				t.Errorf("%d requests, want %d", n, tt.calls)
			}
		})
	}
}

// silentListener accepts connections and never writes a byte: a TLS
// handshake with it never ends.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// Every request is bounded: a server that never answers, never sends its
// headers, or sends its answer a byte at a time fails the request in time,
// in one line naming the bound, without retries.
func TestHTTPTimeouts(t *testing.T) {
	var calls atomic.Int32
	// The handlers stop when the client hangs up.
	handler := func(f func(w http.ResponseWriter, release <-chan struct{})) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			f(w, r.Context().Done())
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	short := Timeouts{Connect: time.Second, TLSHandshake: 200 * time.Millisecond, ResponseHeader: 200 * time.Millisecond, Request: 500 * time.Millisecond}
	tests := []struct {
		name string
		url  string
		want string
	}{
		{"no headers", handler(func(w http.ResponseWriter, release <-chan struct{}) {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}), "no response headers within 200ms"},
		{"trickle", handler(func(w http.ResponseWriter, release <-chan struct{}) {
			w.Write([]byte("apiVersion: v1\n"))
			for i := 0; i < 100; i++ {
				w.(http.Flusher).Flush()
				select {
				case <-release:
					return
				case <-time.After(50 * time.Millisecond):
				}
				w.Write([]byte("#"))
			}
		}), "no complete answer within 500ms (the time allowed for one request)"},
		{"no TLS handshake", "https://" + silentListener(t), "TLS handshake not done within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			h, err := NewHTTP("r", tt.url, HTTPOptions{Timeouts: short})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = h.FetchIndex(context.Background())
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s", took)
			}
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line ending %q", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrUnreachable) {
				t.Errorf("does not match ErrUnreachable: %v", err)
			}
			if n := calls.Load(); n > 1 {
				t.Errorf("%d requests: a timeout is not retried", n)
			}
		})
	}
}

// Zero timeouts mean the documented defaults.
func TestTimeoutDefaults(t *testing.T) {
	got := Timeouts{ResponseHeader: time.Second}.withDefaults()
	want := Timeouts{Connect: DefaultConnectTimeout, TLSHandshake: DefaultTLSHandshakeTimeout, ResponseHeader: time.Second, Idle: DefaultIdleTimeout, Request: DefaultRequestTimeout}
	if got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	tr := Timeouts{}.transport()
	if tr.TLSHandshakeTimeout != DefaultTLSHandshakeTimeout || tr.ResponseHeaderTimeout != DefaultResponseHeaderTimeout || tr.IdleConnTimeout != DefaultIdleTimeout || tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("transport: %+v", tr)
	}
}
