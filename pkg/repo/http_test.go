package repo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const emptyIndex = "apiVersion: v1\nentries: {}\n"

func TestHTTPRetriesServerErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(emptyIndex))
	}))
	defer srv.Close()
	h, err := NewHTTP("r", srv.URL, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.index(context.Background()); err != nil {
		t.Fatalf("two 503s then 200: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestHTTPGivesUpInOneLine(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	h, _ := NewHTTP("r", srv.URL, HTTPOptions{})
	_, err := h.index(context.Background())
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway (after 4 attempts)") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error = %v", err)
	}
	if calls.Load() != 4 {
		t.Errorf("%d requests, want 4", calls.Load())
	}
}

func TestHTTPDoesNotRetryClientErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	h, _ := NewHTTP("r", srv.URL, HTTPOptions{})
	if _, err := h.index(context.Background()); err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Fatalf("error = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests for a 403, want 1", calls.Load())
	}
}
