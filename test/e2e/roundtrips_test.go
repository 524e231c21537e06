package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bundlesh/bundle/internal/testutil"
)

// Round trips per object: what an install and an upgrade of a release of
// many objects send to the API server for each of them, counted at the
// proxy in front of it (so exactly, whatever the machine's speed).

// requestCounter counts the requests a proxy forwards to the objects of
// one resource in one namespace, by kind of request ("GET", "PATCH
// dryRun", "PATCH", "LIST", "WATCH", ...).
type requestCounter struct {
	mu     sync.Mutex
	prefix string // /api/v1/namespaces/NS/RESOURCE
	counts map[string]int
}

// countRequests makes p count the requests to resource (of the core
// group) in namespace ns.
func countRequests(p *apiProxy, ns, resource string) *requestCounter {
	c := &requestCounter{prefix: "/api/v1/namespaces/" + ns + "/" + resource, counts: map[string]int{}}
	p.rule(nil, func(req *http.Request) bool {
		if req.URL.Path != c.prefix && !strings.HasPrefix(req.URL.Path, c.prefix+"/") {
			return false
		}
		q := req.URL.Query()
		what := req.Method
		switch {
		case q.Get("watch") == "true":
			what = "WATCH"
		case req.Method == http.MethodGet && req.URL.Path == c.prefix:
			what = "LIST"
		case q.Has("dryRun"):
			what += " dryRun"
		}
		c.mu.Lock()
		c.counts[what]++
		c.mu.Unlock()
		return false
	}, false)
	return c
}

// take returns the counts so far and their total, and starts again.
func (c *requestCounter) take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, n := c.counts, 0
	for _, v := range out {
		n += v
	}
	c.counts = map[string]int{}
	return out, n
}

func (c *requestCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, v := range c.counts {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func formatCounts(m map[string]int) string {
	c := &requestCounter{counts: m}
	return c.String()
}

// manyConfigMaps writes chart many: values.count ConfigMaps, each holding
// values.revision; the one numbered values.bad has a key the API server
// rejects.
func manyConfigMaps(t *testing.T) string {
	t.Helper()
	return testutil.Chart{Name: "many", Values: "count: 1\nrevision: \"1\"\nbad: -1\n", Templates: map[string]string{
		"cm.yaml": `{{- range $i := until (int .Values.count) }}
---
` + testutil.Object("v1", "ConfigMap", "{{ $.Release.Name }}-{{ $i }}", `data: {revision: {{ $.Values.revision | quote }}{{ if eq $i (int $.Values.bad) }}, "bad key!": "x"{{ end }}}`+"\n") + `{{- end }}
`,
	}}.Write(t, filepath.Join(t.TempDir(), "many"))
}

// An install of a release of n ConfigMaps sends at most three requests per
// ConfigMap (Helm's check that none exists yet, the dry run that validates
// it before anything is written, the apply), and an upgrade that changes
// every one of them two (the dry run, the apply), besides a few per
// release (the wait's watch): helm 4 sends two per object for each
// (TestRoundTripsPerObjectOfHelm4). Counted at a proxy in front of the API
// server, so exactly. An upgrade with one object the API server rejects
// still validates every object and writes none.
func TestRoundTripsPerObject(t *testing.T) {
	t.Parallel()
	e := setup(t)
	chart := manyConfigMaps(t)
	const n = 40
	const perRelease = 4
	ns := e.createNamespace(t, "trips")
	p := newAPIProxy(t, e)
	c := countRequests(p, ns, "configmaps")

	e.mustBundle(t, "install", "many", chart, "-n", ns, "--set", fmt.Sprintf("count=%d", n), "--wait", "--kubeconfig", p.kubeconfig)
	counts, total := c.take()
	t.Logf("install of %d ConfigMaps: %d requests to them (%s)", n, total, formatCounts(counts))
	if total > 3*n+perRelease {
		t.Errorf("install of %d ConfigMaps: %d requests to them (%s), want at most %d", n, total, formatCounts(counts), 3*n+perRelease)
	}

	e.mustBundle(t, "upgrade", "many", chart, "-n", ns, "--set", fmt.Sprintf("count=%d", n), "--set", "revision=2", "--wait", "--kubeconfig", p.kubeconfig)
	counts, total = c.take()
	t.Logf("upgrade of %d ConfigMaps: %d requests to them (%s)", n, total, formatCounts(counts))
	if total > 2*n+perRelease {
		t.Errorf("upgrade of %d ConfigMaps: %d requests to them (%s), want at most %d", n, total, formatCounts(counts), 2*n+perRelease)
	}
	if got := configMapData(t, e, ns, fmt.Sprintf("many-%d", n-1)); got["revision"] != "2" {
		t.Errorf("after the upgrade, ConfigMap many-%d holds %v", n-1, got)
	}

	// One object the API server rejects, the last: nothing is written.
	code, _, errs := e.bundle(t, "upgrade", "many", chart, "-n", ns, "--set", fmt.Sprintf("count=%d", n), "--set", "revision=3", "--set", fmt.Sprintf("bad=%d", n-1), "--kubeconfig", p.kubeconfig)
	counts, _ = c.take()
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("ConfigMap many-%d", n-1)) {
		t.Errorf("an upgrade with an invalid ConfigMap: exit %d: %s", code, errs)
	}
	for what, k := range counts {
		if !strings.HasSuffix(what, "dryRun") && what != http.MethodGet {
			t.Errorf("an upgrade with an invalid ConfigMap sent %d %s requests (%s)", k, what, formatCounts(counts))
		}
	}
	if counts["PATCH dryRun"] != n {
		t.Errorf("an upgrade with an invalid ConfigMap validated %d ConfigMaps, want %d", counts["PATCH dryRun"], n)
	}
	if got := configMapData(t, e, ns, "many-0"); got["revision"] != "2" {
		t.Errorf("after a rejected upgrade, ConfigMap many-0 holds %v", got)
	}
}

// What helm 4 sends for the same install and upgrade, for the log: the
// anchor the numbers above are held to.
func TestRoundTripsPerObjectOfHelm4(t *testing.T) {
	t.Parallel()
	helm4 := testutil.Helm4CLI(t)
	e := setup(t)
	chart := manyConfigMaps(t)
	const n = 40
	ns := e.createNamespace(t, "trips-helm4")
	p := newAPIProxy(t, e)
	c := countRequests(p, ns, "configmaps")
	runHelm(t, helm4, "install", "many", chart, "-n", ns, "--set", fmt.Sprintf("count=%d", n), "--wait", "--kubeconfig", p.kubeconfig)
	counts, total := c.take()
	t.Logf("helm 4: install of %d ConfigMaps: %d requests to them (%s)", n, total, formatCounts(counts))
	runHelm(t, helm4, "upgrade", "many", chart, "-n", ns, "--set", fmt.Sprintf("count=%d", n), "--set", "revision=2", "--wait", "--kubeconfig", p.kubeconfig)
	counts, total = c.take()
	t.Logf("helm 4: upgrade of %d ConfigMaps: %d requests to them (%s)", n, total, formatCounts(counts))
}
