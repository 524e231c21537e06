package wait

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The API server's health as an operation's requests see it: a request
// without an answer is a stall once it has waited stallAfter; after a
// wait gave up, requests are bounded; an answer ends both.
func TestAPIHealth(t *testing.T) {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	defer close(hold)
	h := NewHealth()
	client := &http.Client{Transport: healthTransport{h: h, next: http.DefaultTransport}}
	get := func(ctx context.Context, path string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}

	if err := get(context.Background(), "/ok"); err != nil {
		t.Fatal(err)
	}
	if since, _ := h.unanswered(time.Now()); !since.IsZero() {
		t.Fatalf("unanswered since %s after an answer", since)
	}

	// A request held without an answer.
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() { held <- get(ctx, "/hang") }()
	time.Sleep(200 * time.Millisecond)
	if since, _ := h.unanswered(time.Now()); !since.IsZero() {
		t.Errorf("a request held for 200ms is a stall")
	}
	since, cause := h.unanswered(time.Now().Add(stallAfter))
	if since.IsZero() || cause != "no answer to GET /hang for 5s" {
		t.Errorf("a request held for %s: unanswered since %s: %q", stallAfter, since, cause)
	}
	cancel()
	<-held

	// A 5xx answer is a failure, and says so.
	select {
	case <-h.failures(): // drain
	default:
	}
	get(context.Background(), "/down")
	select {
	case <-h.failures():
	default:
		t.Error("a 503 was not told as a failure")
	}
	if since, cause := h.unanswered(time.Now()); since.IsZero() || cause != "GET /down: 503 Service Unavailable" {
		t.Errorf("after a 503: unanswered since %s: %q", since, cause)
	}

	// After a wait gave up, a request without an answer is cut.
	h.giveUp()
	h.mu.Lock()
	h.until = time.Now() // its grace spent: each request gets minRequest
	h.mu.Unlock()
	start := time.Now()
	err := get(context.Background(), "/hang")
	if took := time.Since(start); took > minRequest+time.Second {
		t.Errorf("a request after giving up took %s", took)
	}
	if err == nil || !errors.Is(err, errNoAnswer) || !strings.Contains(err.Error(), "GET /hang: no answer from the API server in 2s") {
		t.Errorf("a request after giving up: %v", err)
	}

	// An answer clears it all.
	if err := get(context.Background(), "/ok"); err != nil {
		t.Fatal(err)
	}
	if since, _ := h.unanswered(time.Now()); !since.IsZero() || !h.until.IsZero() {
		t.Errorf("after an answer: unanswered since %s, bound until %s", since, h.until)
	}
}
