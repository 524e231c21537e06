package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testutil"
)

// An object the API server rejects changes nothing: every object of a new
// revision is validated by a server-side dry run before any is changed.
func TestAnObjectTheAPIServerRejectsChangesNothing(t *testing.T) {
	e, ns := setupIn(t, "validate")
	// A Service (port values.port, named http) beside the Deployment.
	chart := deploymentChart(t, "port: 80\n", "templates/svc.yaml", `apiVersion: v1
kind: Service
metadata: {name: {{ .Release.Name }}}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: {{ .Values.port }}}]
`)
	ctx := context.Background()
	e.mustBundle(t, "install", chart, "-n", ns, "--create-namespace")
	svc := func() *corev1.Service {
		t.Helper()
		s, err := e.cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := svc()
	revisions := func() int {
		t.Helper()
		h, err := e.helmStorage(ns).History("web")
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}

	bad := []string{"--set", "port=8081", "--set-json", `nodeSelector={"bad key!":"x"}`}
	for _, dryRun := range [][]string{{"--dry-run"}, nil} {
		args := append(append([]string{"upgrade", "web", chart, "-n", ns}, bad...), dryRun...)
		code, _, errs := e.bundle(t, args...)
		if code == 0 {
			t.Fatalf("bundle %s: succeeded; want the Deployment rejected", strings.Join(args, " "))
		}
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "the API server rejects 1 of 2 objects") || !strings.Contains(lines[0], "nothing was changed") ||
			!strings.HasPrefix(lines[1], `  Deployment web: spec.template.spec.nodeSelector: Invalid value: "bad key!"`) {
			t.Errorf("bundle %s: want one error line, then one line for the Deployment; got:\n%s", strings.Join(args, " "), errs)
		}
	}
	after := svc()
	if after.Spec.Ports[0].Port != 80 || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the Service was changed: port %d, resourceVersion %s (was %s)", after.Spec.Ports[0].Port, after.ResourceVersion, before.ResourceVersion)
	}
	if n := revisions(); n != 1 {
		t.Errorf("history has %d revisions after the rejected upgrades, want 1", n)
	}

	e.mustBundle(t, "upgrade", "web", chart, "-n", ns, "--set", "port=8081", "--set-json", `nodeSelector={"disk":"ssd"}`)
	if p := svc().Spec.Ports; len(p) != 1 || p[0].Port != 8081 {
		t.Errorf("after the corrected upgrade the Service's ports are %v, want 8081 only", p)
	}
	e.mustBundle(t, "rollback", "web", "1", "-n", ns)
	if p := svc().Spec.Ports; len(p) != 1 || p[0].Port != 80 || p[0].Name != "http" {
		t.Errorf("after rollback 1 the Service's ports are %v, want http 80 only", p)
	}
	if n := revisions(); n != 3 {
		t.Errorf("history has %d revisions, want 3 (install, upgrade, rollback)", n)
	}
}

// bundle validates objects with the API server's dry runs, not with
// Helm's client-side OpenAPI schema: a field no schema declares is still
// refused before anything is written, whether the object is applied
// server-side (which refuses it) or, when the API server cannot apply it
// (two env vars of one name), created as Helm creates it (a strict dry
// run); --disable-openapi-validation lets the latter pass with the API
// server's warning, as with Helm.
func TestAFieldNoSchemaDeclaresIsRefusedBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	chart := func(env string) string {
		return testutil.Chart{Name: "unknown", Templates: map[string]string{
			"deploy.yaml": testutil.DeploymentYAML("unknown", testutil.PodSpec(`containers:
- name: web
  image: nginx:1.27
  bogusField: 1
  env: `+env+`
`)),
		}}.Write(t, filepath.Join(t.TempDir(), "unknown"))
	}
	for _, tt := range []struct {
		name, env string
		flags     []string
		installs  bool
	}{
		{"applied server-side", `[{name: A, value: "1"}]`, nil, false},
		{"created as Helm creates it", `[{name: A, value: "1"}, {name: A, value: "2"}]`, nil, false},
		{"created as Helm creates it, not validated", `[{name: A, value: "1"}, {name: A, value: "2"}]`, []string{"--disable-openapi-validation"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := e.namespace(t, "unknown")
			code, _, errs := e.bundle(t, append([]string{"install", "unknown", chart(tt.env), "-n", ns, "--create-namespace"}, tt.flags...)...)
			if tt.installs {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				return
			}
			if code == 0 || !strings.Contains(errs, "bogusField") || !strings.Contains(errs, "nothing was changed") {
				t.Errorf("exit %d, want the unknown field refused before any write:\n%s", code, errs)
			}
			if _, err := e.cs.AppsV1().Deployments(ns).Get(context.Background(), "unknown", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("the Deployment after the refused install: %v", err)
			}
		})
	}
}
