package e2e

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// apiProxy is an HTTP proxy in front of the test API server, for fault
// injection at a chosen request: bundle talks plain HTTP to it (its
// kubeconfig), and it forwards each request with the test's credentials,
// so it sees every method and path. A rule holds the requests it matches
// (the test then interrupts, kills or cuts off the command while the
// request is in flight) or only says when the first one passes. cut closes
// every connection and stops listening, as an API server that is gone;
// restart listens again at the same address.
type apiProxy struct {
	t          *testing.T
	addr       string
	kubeconfig string
	proxy      *httputil.ReverseProxy

	mu    sync.Mutex
	srv   *http.Server
	gone  chan struct{} // closed by cut
	rules []*proxyRule
}

// proxyRule holds (or only notices) the requests that match it, from the
// first after a request matching after has succeeded (nil: at once).
type proxyRule struct {
	after, match func(*http.Request) bool
	hold         bool
	// forward: held requests go on to the API server when the rule is
	// freed (a request sent before the command was paused), instead of
	// failing.
	forward bool
	armed   bool
	// fired is closed at the first request the rule matched.
	fired   chan struct{}
	once    sync.Once
	release chan struct{} // closed: held requests fail
}

func newAPIProxy(t *testing.T, e *env) *apiProxy {
	t.Helper()
	target, err := url.Parse(e.cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rest.TransportFor(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{t: t, proxy: &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     rt,
		FlushInterval: -1, // watches stream
		ErrorLog:      log.New(io.Discard, "", 0),
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, r := range p.rules {
			r.free()
		}
	})
	p.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: "http://` + p.addr + `"}}]
users: [{name: proxy, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]
current-context: proxy
`
	if err := os.WriteFile(p.kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *apiProxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone = make(chan struct{})
	p.srv = &http.Server{Handler: http.HandlerFunc(p.handle)}
	go p.srv.Serve(ln)
}

// rule adds a rule; see proxyRule.
func (p *apiProxy) rule(after, match func(*http.Request) bool, hold bool) *proxyRule {
	r := &proxyRule{after: after, match: match, hold: hold, armed: after == nil, fired: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, r)
	return r
}

// delay adds a rule that holds the requests matching match until it is
// freed, then forwards them: the command waits for an answer there, at a
// point the test chooses (to stop it with SIGSTOP).
func (p *apiProxy) delay(match func(*http.Request) bool) *proxyRule {
	r := p.rule(nil, match, true)
	r.forward = true
	return r
}

func (r *proxyRule) freed() bool {
	select {
	case <-r.release:
		return true
	default:
		return false
	}
}

// free ends the rule: the requests it holds fail, and it holds no more.
func (r *proxyRule) free() {
	select {
	case <-r.release:
	default:
		close(r.release)
	}
}

func (p *apiProxy) handle(w http.ResponseWriter, req *http.Request) {
	p.mu.Lock()
	gone := p.gone
	var holdBy *proxyRule
	for _, r := range p.rules {
		if r.freed() {
			continue
		}
		if r.armed && r.match(req) {
			r.once.Do(func() { close(r.fired) })
			if r.hold && holdBy == nil {
				holdBy = r
			}
		}
	}
	p.mu.Unlock()
	if holdBy != nil {
		forward := false
		select {
		case <-holdBy.release:
			forward = holdBy.forward
		case <-gone:
		case <-req.Context().Done():
		}
		if !forward {
			panic(http.ErrAbortHandler) // the connection is cut: the request never reached the API server
		}
	}
	rec := &statusRecorder{ResponseWriter: w}
	p.proxy.ServeHTTP(rec, req)
	if rec.status == 0 || rec.status >= 300 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if !r.armed && r.after(req) {
			r.armed = true
		}
	}
}

// cut closes every connection and stops listening.
func (p *apiProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gone:
		return
	default:
	}
	close(p.gone)
	p.srv.Close()
}

// restart listens again at the same address.
func (p *apiProxy) restart() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("restarting the proxy at %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// waitFired waits until the rule has matched a request.
func (r *proxyRule) waitFired(t *testing.T, what string, proc *process) {
	t.Helper()
	select {
	case <-r.fired:
	case <-proc.done:
		t.Fatalf("the command ended before %s: %v: %s", what, proc.err, proc.stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("no %s after a minute: %s", what, proc.stderr.String())
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets watches stream through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Request matchers.

// releaseRecord matches the request that stores a new revision of a
// release: Helm's create of its Secret sh.helm.release.v1.NAME.vN.
func releaseRecord(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/secrets")
}

// objectRequest matches a request (not a dry run, not a watch) to an
// object of one of the resources, e.g. "configmaps", "deployments".
func objectRequest(resources ...string) func(*http.Request) bool {
	return func(req *http.Request) bool {
		q := req.URL.Query()
		if q.Has("dryRun") || q.Get("watch") == "true" {
			return false
		}
		for _, r := range resources {
			if strings.Contains(req.URL.Path, "/"+r+"/") || strings.HasSuffix(req.URL.Path, "/"+r) && req.Method != http.MethodGet {
				return true
			}
		}
		return false
	}
}

// watchRequest matches the watches a wait starts.
func watchRequest(req *http.Request) bool {
	return req.URL.Query().Get("watch") == "true" && !strings.Contains(req.URL.Path, "/secrets") && !strings.Contains(req.URL.Path, "/leases")
}

// objectWrite matches a write (not a dry run) of the object at path
// /api/v1/namespaces/NS/RESOURCE/NAME.
func objectWrite(ns, resource, name string) func(*http.Request) bool {
	path := "/api/v1/namespaces/" + ns + "/" + resource + "/" + name
	return func(req *http.Request) bool {
		return req.Method != http.MethodGet && req.URL.Path == path && !req.URL.Query().Has("dryRun")
	}
}

// recordUpdate matches an update of a stored revision of release name in
// namespace ns: Helm's write of its Secret sh.helm.release.v1.NAME.vN (as
// it marks one superseded, deployed or failed).
func recordUpdate(ns, name string) func(*http.Request) bool {
	re := regexp.MustCompile(`^/api/v1/namespaces/` + regexp.QuoteMeta(ns) + `/secrets/sh\.helm\.release\.v1\.` + regexp.QuoteMeta(name) + `\.v\d+$`)
	return func(req *http.Request) bool {
		return req.Method == http.MethodPut && re.MatchString(req.URL.Path)
	}
}
