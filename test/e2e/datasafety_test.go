package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
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
	// Helm 4 creates hooks by server-side apply (a PATCH to the Job's
	// path), Helm 3 by POST.
	hook := p.rule(nil, func(req *http.Request) bool {
		created := req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/jobs") ||
			req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/jobs/")
		return created && !req.URL.Query().Has("dryRun")
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

// Tenants apart, on a shared provider: an owner with rights in the
// provider's namespace alone, and two tenants with rights in their own
// namespace alone. A tenant binds only once the owner granted it, its
// release creates nothing in the provider's namespace, and it can read
// there its grant's Secret and record and nothing else: not the provider's
// root password, not the other tenant's claim. A provider record rewritten
// by whoever may write there changes nothing a tenant installs. The owner
// cannot drop a bound tenant's database: revoke --delete-data and
// uninstall --delete-data are refused, with --force too. Fails before the
// fix: the tenant's install needed Secrets, ConfigMaps and Jobs rights in
// the provider's namespace (and there read the root password).
func TestTenantsApart(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	data, web, shop := e.createNamespace(t, "tenants-data"), e.createNamespace(t, "tenants-web"), e.createNamespace(t, "tenants-shop")
	owner, tenantA, tenantB := e.scopedUser(t, data), e.scopedUser(t, web), e.scopedUser(t, shop)
	as := func(t *testing.T, kc string, args ...string) (int, string, string) {
		t.Helper()
		return e.bundle(t, append(args, "--kubeconfig", kc)...)
	}
	must := func(t *testing.T, kc string, args ...string) string {
		t.Helper()
		code, out, errs := as(t, kc, args...)
		if code != 0 {
			t.Fatalf("bundle %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	client := func(t *testing.T, kc string) kubernetes.Interface {
		t.Helper()
		cfg, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	bind := "database=" + data + "/team-db"
	grantOf := func(ns, rel string) string {
		return render.GrantName("team-db", plan.Consumer{Namespace: ns, Release: rel, Instance: "database"})
	}
	testutil.Phase(t, "a tenant binds once the owner granted it", func(t *testing.T) {
		must(t, owner, "install", "team-db", "stable/mariadb", "-n", data, "--wait", "--timeout", "3m")

		// No grant: refused in one line naming the owner's command.
		code, _, errs := as(t, tenantB, "install", "blog", "stable/wordpress", "-n", shop, "--bind", bind)
		if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "its owner grants it with: bundle grant team-db "+shop+"/blog/database -n "+data) {
			t.Fatalf("binding without a grant: exit %d: %s", code, errs)
		}
		must(t, owner, "grant", "team-db", web+"/wiki/database", "-n", data, "--wait", "--timeout", "2m")
		must(t, owner, "grant", "team-db", shop+"/blog/database", "-n", data, "--wait", "--timeout", "2m")
		must(t, tenantA, "install", "wiki", "stable/mediawiki", "-n", web, "--bind", bind)
		must(t, tenantB, "install", "blog", "stable/wordpress", "-n", shop, "--bind", bind)
	})
	testutil.Phase(t, "a tenant reads its grant and nothing else of the provider's namespace", func(t *testing.T) {
		for _, tc := range []struct {
			kc, ns, rel, other, otherNS, otherRel string
		}{
			{tenantA, web, "wiki", tenantB, shop, "blog"},
			{tenantB, shop, "blog", tenantA, web, "wiki"},
		} {
			cs := client(t, tc.kc)
			own, others := grantOf(tc.ns, tc.rel), grantOf(tc.otherNS, tc.otherRel)
			if m := e.lastRevision(t, tc.ns, tc.rel).Manifest; strings.Contains(m, "namespace: "+data) || strings.Contains(m, "kind: Job") {
				t.Errorf("%s/%s holds objects in %s:\n%s", tc.ns, tc.rel, data, m)
			}
			if got, want := secretValue(t, e, tc.ns, tc.rel+"-database", "password"), secretValue(t, e, data, own, "password"); got == "" || got != want {
				t.Errorf("%s/%s's claim Secret is not its grant's", tc.ns, tc.rel)
			}
			if _, err := cs.CoreV1().Secrets(data).Get(ctx, own, metav1.GetOptions{}); err != nil {
				t.Errorf("%s reading its grant's Secret: %v", tc.ns, err)
			}
			if _, err := cs.CoreV1().ConfigMaps(data).Get(ctx, own+"-grant", metav1.GetOptions{}); err != nil {
				t.Errorf("%s reading its grant's record: %v", tc.ns, err)
			}
			for what, read := range map[string]func() error{
				"the provider's root password": func() error {
					_, err := cs.CoreV1().Secrets(data).Get(ctx, "team-db-mariadb", metav1.GetOptions{})
					return err
				},
				"the other tenant's grant": func() error {
					_, err := cs.CoreV1().Secrets(data).Get(ctx, others, metav1.GetOptions{})
					return err
				},
				"the other tenant's claim Secret": func() error {
					_, err := cs.CoreV1().Secrets(tc.otherNS).Get(ctx, tc.otherRel+"-database", metav1.GetOptions{})
					return err
				},
				"the Secrets of the provider's namespace": func() error {
					_, err := cs.CoreV1().Secrets(data).List(ctx, metav1.ListOptions{})
					return err
				},
				"the provider's release record": func() error {
					_, err := cs.CoreV1().Secrets(data).Get(ctx, "sh.helm.release.v1.team-db.v1", metav1.GetOptions{})
					return err
				},
			} {
				if err := read(); !apierrors.IsForbidden(err) {
					t.Errorf("%s reading %s: %v, want forbidden", tc.ns, what, err)
				}
			}
		}

	})
	testutil.Phase(t, "a rewritten provider record reaches no tenant", func(t *testing.T) {
		tamperRecord(t, e, data, "team-db", 1, func(r *helmrelease.Release) {
			addEvilClaims(t, r)
			r.Chart.Metadata.Annotations["bundle.sh/outputs"] = `{"host":"db.evil.example.com","port":"3306"}`
		})
		must(t, tenantA, "upgrade", "wiki", "stable/mediawiki", "-n", web)
		if m := e.lastRevision(t, web, "wiki").Manifest; strings.Contains(m, "evil") || !strings.Contains(m, "team-db-mariadb."+data+".svc") {
			t.Errorf("the tenant's upgrade after the record was rewritten:\n%s", m)
		}
		for _, ns := range []string{data, web} {
			if _, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, "stolen", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("ConfigMap %s/stolen: %v", ns, err)
			}
		}

	})
	testutil.Phase(t, "the owner cannot drop a bound tenant's database", func(t *testing.T) {
		for _, args := range [][]string{
			{"revoke", "team-db", web + "/wiki/database", "--delete-data"},
			{"revoke", "team-db", web + "/wiki/database", "--delete-data", "--force"},
			{"revoke", "team-db", web + "/wiki/database"},
			{"uninstall", "team-db", "--delete-data"},
			{"uninstall", "team-db", "--delete-data", "--force"},
			{"uninstall", "team-db"},
		} {
			code, _, errs := as(t, owner, append(args, "-n", data)...)
			if code == 0 || !strings.Contains(errs, web+"/wiki") {
				t.Errorf("the owner's %v: exit %d: %s", args, code, errs)
			}
		}
		if _, err := e.helmStorage(data).Deployed(grantOf(web, "wiki")); err != nil {
			t.Errorf("wiki's grant: %v", err)
		}
		if _, err := e.helmStorage(data).Deployed("team-db"); err != nil {
			t.Errorf("team-db: %v", err)
		}
	})
	testutil.Phase(t, "once the tenant is gone, the owner revokes its grant", func(t *testing.T) {
		must(t, tenantA, "uninstall", "wiki", "-n", web)
		code, _, errs := as(t, owner, "revoke", "team-db", web+"/wiki/database", "-n", data, "--delete-data")
		if code == 0 || !strings.Contains(errs, "cannot be read") {
			t.Errorf("the owner's revoke --delete-data of a gone app it cannot see: exit %d: %s", code, errs)
		}
		e.mustBundle(t, "revoke", "team-db", web+"/wiki/database", "-n", data, "--delete-data", "--wait", "--timeout", "2m")
	})
}
