package wait

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// An operation's requests to the API server go through its Client's
// Health, which follows whether the server answers: a wait goes on
// through a lost connection, a restarted API server or a lost etcd (the
// server takes requests and answers none), and only when its timeout
// passes says how long the server was unreachable.

const (
	// stallAfter: a request without an answer for this long means the
	// API server does not answer (as when its etcd is gone).
	stallAfter = 5 * time.Second
	// failureGrace is what an operation gets, after its wait gave up on
	// an API server that did not answer, to record the failure (and
	// --atomic's clean-up); each request gets at least minRequest.
	failureGrace = 5 * time.Second
	minRequest   = 2 * time.Second
)

// errNoAnswer cuts a request that got no answer in the time it had.
var errNoAnswer = errors.New("no answer")

// Health follows the answers of the API server to one Client's
// requests: when it last answered, since when it has not (connections
// refused or reset, 5xx answers, requests without an answer), and why.
type Health struct {
	mu       sync.Mutex
	answered time.Time // the last answer
	down     time.Time // the first failure since; zero: none
	cause    string    // the last failure
	pending  map[*http.Request]time.Time
	// until, when set, bounds every request: a wait gave up on a server
	// that did not answer (giveUp). An answer clears it.
	until time.Time
	// failed receives, without blocking, at each failure.
	failed chan struct{}
}

// NewHealth returns the health of an API server not asked yet.
func NewHealth() *Health {
	return &Health{pending: map[*http.Request]time.Time{}, failed: make(chan struct{}, 1)}
}

// WrapConfig makes rc's requests go through h.
func (h *Health) WrapConfig(rc *rest.Config) *rest.Config {
	rc.Wrap(func(next http.RoundTripper) http.RoundTripper { return healthTransport{h: h, next: next} })
	return rc
}

// failures receives at each failure of a request; nil for a nil h.
func (h *Health) failures() <-chan struct{} {
	if h == nil {
		return nil
	}
	return h.failed
}

// unanswered says since when the API server has not answered, and why;
// zero when it answers (or h is nil).
func (h *Health) unanswered(now time.Time) (time.Time, string) {
	if h == nil {
		return time.Time{}, ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	since, cause := h.down, h.cause
	for req, sent := range h.pending {
		if now.Sub(sent) < stallAfter || !sent.After(h.answered) || (!since.IsZero() && !sent.Before(since)) {
			continue
		}
		since, cause = sent, fmt.Sprintf("no answer to %s %s for %s", req.Method, req.URL.Path, roundDuration(now.Sub(sent)))
	}
	return since, cause
}

// giveUp bounds the requests from now on, until the server answers
// again, to failureGrace in all (each at least minRequest): the
// operation records its failure and ends soon.
func (h *Health) giveUp() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until = time.Now().Add(failureGrace)
}

// failLocked records a failure of a request sent at at: the server has
// not answered since then (or since its last answer, if later).
func (h *Health) failLocked(at time.Time, cause string) {
	if at.Before(h.answered) {
		at = h.answered
	}
	if h.down.IsZero() || at.Before(h.down) { // a request sent earlier, failed later
		h.down = at
	}
	h.cause = cause
	select {
	case h.failed <- struct{}{}:
	default:
	}
}

type healthTransport struct {
	h    *Health
	next http.RoundTripper
}

func (t healthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	sent := time.Now()
	h.mu.Lock()
	h.pending[req] = sent
	var limit time.Duration
	if !h.until.IsZero() {
		limit = max(h.until.Sub(sent), minRequest)
	}
	h.mu.Unlock()

	out := req
	var (
		cut    context.Context
		cancel context.CancelCauseFunc
		timer  *time.Timer
	)
	if dl, ok := req.Context().Deadline(); limit > 0 && (!ok || time.Until(dl) > limit) {
		cut, cancel = context.WithCancelCause(req.Context())
		timer = time.AfterFunc(limit, func() { cancel(errNoAnswer) })
		out = req.WithContext(cut)
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil && cut != nil && context.Cause(cut) == errNoAnswer {
		err = fmt.Errorf("%s %s: %w from the API server in %s", req.Method, req.URL.Path, errNoAnswer, roundDuration(limit))
	}

	h.mu.Lock()
	delete(h.pending, req)
	switch {
	case req.Context().Err() != nil: // its caller went: no news of the server, unless it had waited long
		if took := time.Since(sent); took >= stallAfter && sent.After(h.answered) {
			h.failLocked(sent, fmt.Sprintf("no answer to %s %s for %s", req.Method, req.URL.Path, roundDuration(took)))
		}
	case err != nil:
		h.failLocked(sent, kubeobj.OneLine(err))
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		h.failLocked(sent, fmt.Sprintf("%s %s: %s", req.Method, req.URL.Path, resp.Status))
	default:
		h.answered, h.down, h.cause, h.until = time.Now(), time.Time{}, "", time.Time{}
	}
	h.mu.Unlock()

	if cut == nil {
		return resp, err
	}
	if err != nil {
		timer.Stop()
		cancel(nil)
		return resp, err
	}
	if req.URL.Query().Get("watch") == "true" {
		timer.Stop() // a watch is bounded until it starts, its stream is not
	}
	resp.Body = &boundBody{ReadCloser: resp.Body, stop: func() { timer.Stop(); cancel(nil) }}
	return resp, nil
}

// boundBody ends its request's bound when closed.
type boundBody struct {
	io.ReadCloser
	stop func()
	once sync.Once
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.stop)
	return err
}

// roundDuration is d in whole seconds, or milliseconds under a second.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Truncate(time.Second)
	}
	return d.Round(time.Millisecond)
}
