package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bundlesh/bundle/internal/testutil"
)

// deleteRequest matches a DELETE of an object of resource (e.g.
// "configmaps").
func deleteRequest(resource string) func(*http.Request) bool {
	return func(req *http.Request) bool {
		return req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/"+resource+"/")
	}
}

// uninstall --wait is bounded by --timeout as install's wait is: with an
// object that is never deleted (a finalizer nobody removes) or an API
// server that takes requests and answers none once the objects are
// deleted (its etcd lost), the command ends soon after --timeout with one
// line naming what was not yet gone.
func TestUninstallWaitEndsAtItsTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const (
		timeout = 10 * time.Second
		slack   = 25 * time.Second // the records' purge, the lease, a loaded machine
	)
	chart := testutil.Chart{Name: "gone", Templates: map[string]string{
		"config.yaml": testutil.Object("v1", "ConfigMap", "{{ .Release.Name }}-config", "data: {a: b}\n"),
		"held.yaml": `{{ if .Values.finalizer }}` + testutil.Object("v1", "ConfigMap", "{{ .Release.Name }}-held", `data: {a: b}
`) + `{{ end }}`,
	}}.Write(t, filepath.Join(t.TempDir(), "gone"))
	for _, c := range []struct {
		name string
		// finalizer: the held ConfigMap has a finalizer nobody removes.
		finalizer bool
		// inject starts the fault (once the uninstall runs through p);
		// nil: none.
		inject func(t *testing.T, p *apiProxy, done <-chan result) time.Time
		says   []string
	}{
		{name: "an object never deleted", finalizer: true,
			says: []string{"1 of 2 resources not yet deleted after 10s: ConfigMap gone-held", "ConfigMap gone-held: terminating", "bundle.test/never"}},
		{name: "requests unanswered once deleting (etcd lost)", inject: func(t *testing.T, p *apiProxy, done <-chan result) time.Time {
			// Every request from the first that follows a deletion is held.
			fired(t, p.rule(deleteRequest("configmaps"), func(*http.Request) bool { return true }, true), done, "a request after the deletion")
			return time.Now()
		}, says: []string{"was unreachable for the last", "no answer to GET", "not yet deleted", "ConfigMap gone-config"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := e.createNamespace(t, "delwait")
			e.mustBundle(t, "install", "gone", chart, "-n", ns, "--set", "finalizer="+map[bool]string{true: "true", false: "false"}[c.finalizer])
			if c.finalizer {
				ctx := context.Background()
				cms := e.cs.CoreV1().ConfigMaps(ns)
				if _, err := cms.Patch(ctx, "gone-held", types.MergePatchType, []byte(`{"metadata":{"finalizers":["bundle.test/never"]}}`), metav1.PatchOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					cms.Patch(context.Background(), "gone-held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
				})
			}
			p := newAPIProxy(t, e)
			start := time.Now()
			done, _ := e.startInProcess("uninstall", "gone", "-n", ns, "--wait", "--timeout", timeout.String(), "--kubeconfig", p.kubeconfig)
			from := start
			if c.inject != nil {
				from = c.inject(t, p, done)
			}
			r := returned(t, done, timeout+slack+time.Minute, "uninstall --wait still runs a minute after its timeout and slack")
			took := r.returned.Sub(from)
			t.Logf("the uninstall ended %s after the start or the fault: exit %d: %s", took.Round(time.Millisecond), r.code, r.stderr)
			if took > timeout+slack {
				t.Errorf("the uninstall ended %s after the start or the fault, want within its timeout %s and %s", took.Round(time.Millisecond), timeout, slack)
			}
			if r.code == 0 {
				t.Fatal("the uninstall succeeded")
			}
			if first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]; !strings.HasPrefix(first, "Error: ") {
				t.Errorf("the error's first line: %q", first)
			}
			for _, want := range c.says {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the error does not say %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}
