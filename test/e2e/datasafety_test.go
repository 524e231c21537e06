package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Deleting data is a parameter of one uninstall: an uninstall --delete-data
// of an app cut off (killed) as it runs its claim's pre-delete hook leaves
// nothing that makes the next, plain uninstall drop the database.
func TestInterruptedDeleteDataKeepsData(t *testing.T) {
	e, ns := setupIn(t, "deldata")
	ctx := context.Background()
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", ns, "--create-namespace", "--wait", "--timeout", "3m")
	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--bind", "database=team-db")

	p := newAPIProxy(t, e)
	hook := p.rule(nil, func(req *http.Request) bool {
		return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/jobs") && !req.URL.Query().Has("dryRun")
	}, true)
	proc := startBinaryWith(t, p.kubeconfig, "uninstall", "wiki", "-n", ns, "--delete-data")
	hook.waitFired(t, "the claim's pre-delete hook", proc)
	proc.kill(t)
	hook.free()

	// What the claim's ConfigMap says now, for a hook that reads it.
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "wiki-database-claim", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.cs.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=wiki-database-unclaim"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	out := e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--timeout", "2m")
	if !strings.Contains(out, "Kept") && !strings.Contains(out, "kept") {
		t.Errorf("plain uninstall output:\n%s", out)
	}
	deleteData := ""
	timeout := time.After(30 * time.Second)
	for deleteData == "" {
		select {
		case ev := <-w.ResultChan():
			if job, ok := ev.Object.(*batchv1.Job); ok {
				deleteData = effectiveEnv(t, job, cm, "DELETE_DATA")
			}
		case <-timeout:
			t.Fatal("no unclaim hook Job was created")
		}
	}
	if deleteData != "false" {
		t.Errorf("the plain uninstall's unclaim hook got DELETE_DATA=%q: it would drop the database", deleteData)
	}
}

// effectiveEnv is what env name of a Job's first container resolves to,
// its ConfigMap references read from cm.
func effectiveEnv(t *testing.T, job *batchv1.Job, cm *corev1.ConfigMap, name string) string {
	t.Helper()
	for _, env := range job.Spec.Template.Spec.Containers[0].Env {
		if env.Name != name {
			continue
		}
		if env.ValueFrom == nil {
			return env.Value
		}
		if ref := env.ValueFrom.ConfigMapKeyRef; ref != nil && ref.Name == cm.Name {
			return cm.Data[ref.Key]
		}
		t.Fatalf("%s of Job %s: %+v", name, job.Name, env)
	}
	t.Fatalf("Job %s has no %s", job.Name, name)
	return ""
}

// A provider's owner, with rights in the provider's namespace alone,
// cannot drop the database an app of another namespace is bound to: the
// app's claim in the provider's namespace names it, and --delete-data is
// refused even with --force.
func TestProviderOwnerCannotDropBoundData(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	data, web := e.createNamespace(t, "owner-data"), e.createNamespace(t, "owner-web")
	e.mustBundle(t, "install", "team-db", "stable/mariadb", "-n", data, "--wait", "--timeout", "3m")
	e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", web, "--bind", "database="+data+"/team-db")
	owner := e.scopedUser(t, data)

	if _, out, errs := e.bundle(t, "status", "team-db", "-n", data, "--kubeconfig", owner); !strings.Contains(out, "team-db") {
		t.Fatalf("the owner's status: %s%s", out, errs)
	}
	for _, args := range [][]string{{"--delete-data"}, {"--delete-data", "--force"}, {}} {
		code, _, errs := e.bundle(t, append([]string{"uninstall", "team-db", "-n", data, "--kubeconfig", owner}, args...)...)
		if code == 0 || !strings.Contains(errs, web+"/wiki") {
			t.Errorf("the owner's uninstall %v: exit %d: %s", args, code, errs)
		}
	}
	if _, err := e.helmStorage(data).Deployed("team-db"); err != nil {
		t.Errorf("team-db: %v", err)
	}
	pvcs, err := e.cs.CoreV1().PersistentVolumeClaims(data).List(ctx, metav1.ListOptions{})
	if err != nil || len(pvcs.Items) == 0 {
		t.Errorf("team-db's volumes: %v %v", pvcs, err)
	}
}
