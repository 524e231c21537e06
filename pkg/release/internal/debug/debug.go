// Package debug is --debug's output: Helm's log, and a line for every
// request sent to the cluster and its answer, with credentials and the
// data of Secrets redacted. Lines are whole, from any goroutine.
package debug

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// bodyLimit bounds how much of a request body --debug prints.
const bodyLimit = 4096

// redacted replaces secret material in --debug output.
const redacted = "<redacted>"

// logger writes whole lines to w from any goroutine.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "debug: "+strings.TrimRight(format, "\n")+"\n", args...)
}

// Transport wraps a REST configuration's transport so that every request
// to the cluster prints a line to w before it is sent (method, URL,
// headers, body) and one when it is answered, with credentials and Secret
// data redacted.
func Transport(w io.Writer) func(*rest.Config) *rest.Config {
	l := &logger{w: w}
	return func(rc *rest.Config) *rest.Config {
		rc.Wrap(func(next http.RoundTripper) http.RoundTripper {
			return &roundTripper{next: next, log: l}
		})
		return rc
	}
}

type roundTripper struct {
	next http.RoundTripper
	log  *logger
}

func (d *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	d.log.printf("-> %s %s", req.Method, req.URL.Redacted())
	if h := showHeaders(req.Header); h != "" {
		d.log.printf("   headers: %s", h)
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) > 0 {
			d.log.printf("   body: %s", showBody(req.URL.Path, req.Header.Get("Content-Type"), body))
		}
	}
	start := time.Now()
	resp, err := d.next.RoundTrip(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		d.log.printf("<- %s %s: %v (%s)", req.Method, req.URL.Redacted(), err, took)
		return resp, err
	}
	d.log.printf("<- %s %s %s (%s)", resp.Status, req.Method, req.URL.Redacted(), took)
	return resp, nil
}

func showHeaders(h http.Header) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		v := strings.Join(h[k], ", ")
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Proxy-Authorization":
			// Keep the scheme (Bearer, Basic): it tells which credential
			// was used without showing it.
			if scheme, _, ok := strings.Cut(v, " "); ok {
				v = scheme + " " + redacted
			} else {
				v = redacted
			}
		case "Cookie":
			v = redacted
		}
		parts = append(parts, k+": "+v)
	}
	return strings.Join(parts, "; ")
}

// showBody renders a request body for --debug: JSON (YAML is converted)
// with the data and stringData of every Secret redacted; anything else
// sent to a Secret is not shown at all.
func showBody(path, contentType string, body []byte) string {
	secretPath := strings.Contains(path, "/secrets")
	raw := body
	if strings.Contains(contentType, "yaml") {
		j, err := yaml.YAMLToJSON(body)
		if err != nil {
			return fmt.Sprintf("<%d bytes of %s>", len(body), contentType)
		}
		raw = j
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		if secretPath {
			return fmt.Sprintf("<%d bytes to a Secret, %s>", len(body), redacted)
		}
		return fmt.Sprintf("<%d bytes of %s>", len(body), contentType)
	}
	switch obj := v.(type) {
	case map[string]any:
		if secretPath {
			redactSecret(obj)
		}
		redactSecrets(obj)
	case []any:
		if secretPath { // a JSON patch of a Secret: every value may be secret
			for _, op := range obj {
				if m, ok := op.(map[string]any); ok {
					if _, has := m["value"]; has {
						m["value"] = redacted
					}
				}
			}
		}
		redactSecrets(obj)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<%d bytes>", len(body))
	}
	out := bytes.TrimSpace(buf.Bytes())
	if len(out) > bodyLimit {
		return fmt.Sprintf("%s... (%d bytes)", out[:bodyLimit], len(out))
	}
	return string(out)
}

// redactSecrets redacts every object of kind Secret inside v.
func redactSecrets(v any) {
	switch t := v.(type) {
	case map[string]any:
		if t["kind"] == "Secret" {
			redactSecret(t)
		}
		for _, child := range t {
			redactSecrets(child)
		}
	case []any:
		for _, child := range t {
			redactSecrets(child)
		}
	}
}

// redactSecret keeps a Secret's keys but not its values.
func redactSecret(obj map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		switch d := obj[field].(type) {
		case map[string]any:
			for k := range d {
				d[k] = redacted
			}
		case nil:
		default:
			obj[field] = redacted
		}
	}
}

// Handler is Helm's logger for --debug: each record a line to w after
// "debug: helm: ", its attributes as key=value. Without w (nil) it
// discards everything.
func Handler(w io.Writer) slog.Handler {
	if w == nil {
		return slog.DiscardHandler
	}
	return &handler{l: &logger{w: w}}
}

type handler struct {
	l     *logger
	attrs string // " k=v" pairs from WithAttrs, groups as prefixes
	group string
}

func (h *handler) Enabled(context.Context, slog.Level) bool { return true }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	h.l.printf("helm: %s%s", r.Message, b.String())
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		writeAttr(&b, h.group, a)
	}
	return &handler{l: h.l, attrs: b.String(), group: h.group}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{l: h.l, attrs: h.attrs, group: h.group + name + "."}
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			writeAttr(b, group+a.Key+".", g)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%v", group, a.Key, a.Value.Any())
}
