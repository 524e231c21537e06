package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/userfile"
)

// maxIndexSize bounds an index download.
const maxIndexSize = 256 << 20

// HTTP is a Helm-style chart repository served over HTTP(S): an index.yaml
// beside the chart archives it lists.
type HTTP struct {
	name     string
	base     *url.URL
	client   *http.Client
	timeouts Timeouts
	auth     *BasicAuth
	// indexFile, when set, is a cached copy of the index to use instead
	// of fetching it (written by bundle repo update).
	indexFile string

	once    sync.Once
	compact *compactIndex
	err     error

	loaded memo[*bundle.Bundle]
}

// HTTPOptions configure an HTTP repository.
type HTTPOptions struct {
	// Client makes the requests; nil means a client with TLS verification
	// on (Go's default) and the Timeouts. A Client given here keeps its
	// own transport; Timeouts.Request still bounds each request.
	Client *http.Client
	// Timeouts bound each request; zero fields take the defaults.
	Timeouts Timeouts
	// IndexFile is a cached index to read instead of fetching one.
	IndexFile string
	// Auth, when set, is sent as HTTP Basic authentication to the
	// repository's host, over https only unless Auth.PlainHTTP.
	Auth *BasicAuth
}

// BasicAuth is a repository's user name and password (bundle repo add
// --username --password-stdin).
type BasicAuth struct {
	Username, Password string
	// PlainHTTP allows sending them over plain http, where anyone on the
	// way can read them (--plain-http-credentials).
	PlainHTTP bool
}

// String never shows the password.
func (a *BasicAuth) String() string { return "user " + a.Username }

// credentialsInURL refuses an address with a user name or password in it,
// naming it without them.
func credentialsInURL(what, clean string) error {
	return errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Options: []string{"username", "password-stdin"}, Use: true}},
		"%s %s holds a user name or password, which would be stored and printed with the address", what, clean)
}

// Timeouts bound the steps of an HTTP request to a repository or a
// registry, so that a server that does not answer, or answers a byte at a
// time, cannot hold a command forever. A zero field means its default.
type Timeouts struct {
	// Connect bounds opening the TCP connection (default 30s).
	Connect time.Duration
	// TLSHandshake bounds the TLS handshake (default 10s).
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the response's headers once the
	// request is sent (default 30s).
	ResponseHeader time.Duration
	// Idle is how long an unused connection is kept open for reuse
	// (default 90s).
	Idle time.Duration
	// Request bounds a whole request, reading the body included (default
	// 5m: a 256 MB index at under 1 MB/s is not worth waiting for). Each
	// retry gets its own.
	Request time.Duration
}

// The defaults of Timeouts.
const (
	DefaultConnectTimeout        = 30 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultIdleTimeout           = 90 * time.Second
	DefaultRequestTimeout        = 5 * time.Minute
)

// withDefaults fills the zero fields.
func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Connect, DefaultConnectTimeout)
	def(&t.TLSHandshake, DefaultTLSHandshakeTimeout)
	def(&t.ResponseHeader, DefaultResponseHeaderTimeout)
	def(&t.Idle, DefaultIdleTimeout)
	def(&t.Request, DefaultRequestTimeout)
	return t
}

// transport is Go's default transport (proxies from the environment, TLS
// verified, HTTP/2) with the timeouts.
func (t Timeouts) transport() *http.Transport {
	t = t.withDefaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = t.TLSHandshake
	tr.ResponseHeaderTimeout = t.ResponseHeader
	tr.IdleConnTimeout = t.Idle
	tr.ExpectContinueTimeout = time.Second
	return tr
}

// errRequestTimeout is the cause of a request that ran out of
// Timeouts.Request.
var errRequestTimeout = errors.New("request timeout")

// NewHTTP returns the repository at baseURL (http or https), called name in
// messages.
//
// Addresses with a user name or password in them are refused: give
// opts.Auth instead. Auth goes over https only, unless Auth.PlainHTTP.
func NewHTTP(name, baseURL string, opts HTTPOptions) (*HTTP, error) {
	if clean, had := bundle.StripCredentials(baseURL); had {
		if name == baseURL {
			name = clean
		}
		return nil, credentialsInURL("repository "+name+": the address", clean)
	}
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/") + "/")
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("repository %s: %q is not an http(s) address", name, baseURL)
	}
	if opts.Auth != nil && u.Scheme == "http" && !opts.Auth.PlainHTTP {
		return nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{Options: []string{"plain-http-credentials"}, Use: true}},
			"repository %s: refusing to send a password over plain http to %s, where anyone on the way can read it: give an https address", name, u.Host)
	}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		c.Transport = opts.Timeouts.transport()
	}
	h := &HTTP{name: name, base: u, client: &c, timeouts: opts.Timeouts.withDefaults(), auth: opts.Auth, indexFile: opts.IndexFile}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// Go keeps Authorization on a redirect to the same host, even from
		// https to http: drop it unless it may go there.
		if !h.mayAuthenticate(req.URL) {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return h, nil
}

// mayAuthenticate says whether the credentials may go with a request to u:
// the repository's own host, over https unless allowed over http.
func (h *HTTP) mayAuthenticate(u *url.URL) bool {
	return h.auth != nil && u.Host == h.base.Host && (u.Scheme == "https" || (u.Scheme == "http" && h.auth.PlainHTTP))
}

// index returns the repository's index in compact form: read from the
// cache bundle repo update wrote, or fetched once.
func (h *HTTP) index(ctx context.Context) (*compactIndex, error) {
	h.once.Do(func() {
		var data []byte
		if h.indexFile != "" {
			if data, h.err = userfile.Read("", h.indexFile, maxIndexSize); h.err != nil {
				h.err = &errdefs.Error{Kind: errdefs.ErrStale, Msg: fmt.Sprintf("repository %s: cached index: %v", h.name, h.err), Fixes: []errdefs.Fix{{Run: []string{"repo", "update"}}}, Err: h.err}
				return
			}
		} else if data, h.err = h.FetchIndex(ctx); h.err != nil {
			return
		}
		if h.compact, h.err = loadCompact(data); h.err != nil {
			h.err = fmt.Errorf("repository %s: %v", h.name, h.err)
		}
	})
	return h.compact, h.err
}

// FetchIndex downloads the repository's index.yaml as it is now and returns
// its compact form, for bundle repo add and update.
func (h *HTTP) FetchIndex(ctx context.Context) ([]byte, error) {
	data, err := h.get(ctx, h.base.ResolveReference(&url.URL{Path: "index.yaml"}).String(), maxIndexSize)
	if err != nil {
		return nil, err
	}
	idx, err := ParseIndex("repository "+h.name+" index.yaml", data)
	if err != nil {
		return nil, err
	}
	return idx.Compact(), nil
}

// Retries of a request that failed with a 5xx status or a connection error,
// and the first pause between them (doubled each time).
const (
	retries    = 3
	retryPause = 200 * time.Millisecond
)

// get fetches a URL, retrying 5xx answers and connection errors with
// backoff; Go's transport asks for gzip and decompresses it.
func (h *HTTP) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	pause := retryPause
	for attempt := 0; ; attempt++ {
		data, retry, err := h.getOnce(ctx, u, limit)
		if err == nil || !retry || attempt == retries {
			if err != nil && retry {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return data, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause *= 2
	}
}

func (h *HTTP) getOnce(ctx context.Context, u string, limit int64) ([]byte, bool, error) {
	rctx, cancel := context.WithTimeoutCause(ctx, h.timeouts.Request, errRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	if h.mayAuthenticate(req.URL) {
		req.SetBasicAuth(h.auth.Username, h.auth.Password)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if terr := h.timedOut(ctx, rctx, u, err); terr != nil {
			return nil, false, terr
		}
		return nil, ctx.Err() == nil, fmt.Errorf("repository %s: %v", h.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return nil, true, fmt.Errorf("repository %s: GET %s: %s", h.name, u, resp.Status)
	}
	data, err := h.read(resp, u, limit)
	if err != nil {
		if terr := h.timedOut(ctx, rctx, u, err); terr != nil {
			return nil, false, terr
		}
	}
	return data, false, err
}

// timedOut says which bound a failed request ran out of, in one line that
// names it, or returns nil when it was something else. Timeouts are not
// retried: a server that did not answer in time will not in a moment.
func (h *HTTP) timedOut(ctx, rctx context.Context, u string, err error) error {
	if ctx.Err() != nil {
		return nil // the caller's context: cancelled, or its own deadline
	}
	if context.Cause(rctx) == errRequestTimeout {
		return errdefs.New(errdefs.ErrUnreachable, "repository %s: GET %s: no complete answer within %s (the time allowed for one request)", h.name, u, h.timeouts.Request)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "awaiting response headers"):
		return errdefs.New(errdefs.ErrUnreachable, "repository %s: GET %s: no response headers within %s", h.name, u, h.timeouts.ResponseHeader)
	case strings.Contains(msg, "TLS handshake timeout"):
		return errdefs.New(errdefs.ErrUnreachable, "repository %s: GET %s: TLS handshake not done within %s", h.name, u, h.timeouts.TLSHandshake)
	case strings.Contains(msg, "dial"):
		return errdefs.New(errdefs.ErrUnreachable, "repository %s: GET %s: no connection within %s", h.name, u, h.timeouts.Connect)
	}
	return errdefs.New(errdefs.ErrUnreachable, "repository %s: GET %s: timed out: %v", h.name, u, err)
}

func (h *HTTP) read(resp *http.Response, u string, limit int64) ([]byte, error) {
	if resp.StatusCode != http.StatusOK {
		switch resp.StatusCode {
		case http.StatusNotFound:
			return nil, errdefs.New(ErrNotFound, "repository %s: GET %s: %s", h.name, u, resp.Status)
		case http.StatusUnauthorized, http.StatusForbidden:
			if h.auth != nil {
				return nil, fmt.Errorf("repository %s: GET %s: %s (the password of user %s was refused)", h.name, u, resp.Status, h.auth.Username)
			}
			return nil, fmt.Errorf("repository %s: GET %s: %s (no credentials were sent: add the repository with its user name and password)", h.name, u, resp.Status)
		}
		return nil, fmt.Errorf("repository %s: GET %s: %s", h.name, u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("repository %s: GET %s: %v", h.name, u, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("repository %s: GET %s: response over the %d-byte limit", h.name, u, limit)
	}
	return data, nil
}

// Versions implements Repository.
func (h *HTTP) Versions(ctx context.Context, name string) ([]*semver.Version, error) {
	idx, err := h.index(ctx)
	if err != nil {
		return nil, err
	}
	out := idx.versions(name)
	if len(out) == 0 {
		return nil, errdefs.New(ErrNotFound, "bundle %s/%s not found in %s", h.name, name, h.base)
	}
	return out, nil
}

// Load implements Repository: it downloads the archive the index lists,
// checks its digest and loads it.
func (h *HTTP) Load(ctx context.Context, name string, v *semver.Version) (*bundle.Bundle, error) {
	key := name + "@" + v.String()
	b, ok := h.loaded.get(key)
	if ok {
		return b, nil
	}
	idx, err := h.index(ctx)
	if err != nil {
		return nil, err
	}
	var entry *IndexEntry
	for _, e := range idx.entries(name) {
		if ev, err := semver.NewVersion(e.Version); err == nil && ev.Equal(v) {
			entry = e
			break
		}
	}
	if entry == nil || len(entry.URLs) == 0 {
		return nil, errdefs.New(ErrNotFound, "bundle %s/%s has no version %s", h.name, name, v)
	}
	ref, err := url.Parse(entry.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("repository %s: %s %s: bad URL %q", h.name, name, v, entry.URLs[0])
	}
	u := h.base.ResolveReference(ref).String()
	data, err := h.get(ctx, u, bundle.MaxTotalSize)
	if err != nil {
		return nil, err
	}
	if entry.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != strings.TrimPrefix(entry.Digest, "sha256:") {
			return nil, fmt.Errorf("repository %s: %s has digest sha256:%s, but the index says %s: refusing it", h.name, u, got, entry.Digest)
		}
	}
	b, err = bundle.LoadArchive(data, u)
	if err != nil {
		return nil, err
	}
	if b.Name != name || !b.Version.Equal(v) {
		return nil, fmt.Errorf("repository %s: %s holds %s, not %s %s", h.name, u, b, name, v)
	}
	h.loaded.put(key, b)
	return b, nil
}

// cachePath is where bundle repo update keeps a repository's index.
func cachePath(cacheDir, name string) string {
	return filepath.Join(cacheDir, "repository", name+"-index.compact")
}
