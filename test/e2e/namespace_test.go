package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Installing into a namespace that does not exist: without
// --create-namespace, one line naming the namespace and the flag, nothing
// created; with it, a dry run and a diff validate and show what they can
// (the API server cannot dry-run objects of a namespace that does not
// exist) and create nothing, not even the namespace; the install then
// creates it.
func TestInstallIntoMissingNamespace(t *testing.T) {
	e, ns := setupIn(t, "nons")
	ctx := context.Background()
	gone := func(when string) {
		t.Helper()
		if _, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("%s: namespace %s: %v, want it not created", when, ns, err)
		}
	}
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		args := append([]string{"install", "wiki", "stable/mediawiki", "-n", ns}, extra...)
		code, _, errs := e.bundle(t, args...)
		if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 ||
			!strings.Contains(errs, `namespace "`+ns+`" does not exist: use --create-namespace`) {
			t.Errorf("bundle %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		gone(strings.Join(args, " "))
	}

	out := e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--dry-run")
	if !strings.Contains(out, "kind: Deployment") {
		t.Errorf("dry run with --create-namespace shows no manifests:\n%s", out)
	}
	gone("install --create-namespace --dry-run")
	out = e.mustBundle(t, "diff", "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--kubeconfig", e.kubeconfig)
	if !strings.Contains(out, "10 to create, 0 to change, 0 to delete") || !strings.Contains(out, "+ create Deployment.apps "+ns+"/wiki-mediawiki") {
		t.Errorf("diff install --create-namespace:\n%s", out)
	}
	gone("diff install --create-namespace")

	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--quiet")
	if r := e.lastRevision(t, ns, "wiki"); r.Info.Status != "deployed" {
		t.Errorf("after the install: %s", r.Info.Status)
	}
}
