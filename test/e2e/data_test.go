package e2e

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/testutil"
)

// TestUninstallKeepsData: uninstall keeps a release's claims, the data,
// and the Secrets the data was initialised with, even when its
// StatefulSet's claim retention policy says Delete (and its Secret
// carries no helm.sh/resource-policy: keep): the claim the database's
// StatefulSet made, the wiki's own claim and their Secrets stay,
// everything else goes, and the output names them with the commands that
// delete them. A new install under the same name finds the same claims
// and Secrets; uninstall --delete-data then deletes them, and --dry-run
// says so first.
func TestUninstallKeepsData(t *testing.T) {
	e, ns := setupIn(t, "data")
	ctx := context.Background()
	install := func(t *testing.T) {
		e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "2m",
			"--set", "database.persistence.whenDeleted=Delete")
	}
	claims := []string{"data-wiki-database-0", "wiki-mediawiki"}
	uids := map[string]string{}
	var dbSecret *corev1.Secret
	testutil.Phase(t, "installed with a claim retention policy that deletes", func(t *testing.T) {
		install(t)
		sts, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != "Delete" {
			t.Fatalf("the StatefulSet's claim retention policy is %+v; the test needs whenDeleted: Delete", p)
		}

	})
	testutil.Phase(t, "uninstall keeps the claims and the Secrets the data was initialised with", func(t *testing.T) {
		dry := e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--dry-run")
		for _, want := range []string{
			`Would uninstall "wiki" from namespace "` + ns + `"`,
			"Would keep 2 claims with the data (--delete-data deletes them): data-wiki-database-0, wiki-mediawiki",
		} {
			if !strings.Contains(dry, want) {
				t.Errorf("uninstall --dry-run output lacks %q:\n%s", want, dry)
			}
		}
		if _, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, "wiki-database", metav1.GetOptions{}); err != nil {
			t.Fatalf("uninstall --dry-run deleted the StatefulSet: %v", err)
		}

		out := e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--wait")
		for _, want := range []string{
			"Kept 2 claims with the data: data-wiki-database-0, wiki-mediawiki",
			"Kept 2 Secrets the data was initialised with: wiki-database, wiki-mediawiki",
			"Delete them with: kubectl delete pvc -n " + ns + " data-wiki-database-0 wiki-mediawiki && kubectl delete secret -n " + ns + " wiki-database wiki-mediawiki",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("uninstall output lacks %q:\n%s", want, out)
			}
		}
		left := leftovers(ctx, e, ns)
		sort.Strings(left)
		if want := []string{"PersistentVolumeClaim/data-wiki-database-0", "PersistentVolumeClaim/wiki-mediawiki", "Secret/wiki-database", "Secret/wiki-mediawiki"}; strings.Join(left, " ") != strings.Join(want, " ") {
			t.Errorf("after uninstall the namespace holds %v, want only the claims and the Secrets the data was initialised with %v", left, want)
		}
		for _, name := range claims {
			pvc, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("claim %s: %v", name, err)
			}
			if pvc.DeletionTimestamp != nil || len(pvc.OwnerReferences) > 0 {
				t.Errorf("claim %s is being deleted (%v) or still owned (%v)", name, pvc.DeletionTimestamp, pvc.OwnerReferences)
			}
		}
		for _, name := range claims {
			pvc, _ := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			uids[name] = string(pvc.UID)
		}

	})
	testutil.Phase(t, "without the database's Secret, an install is refused naming the values", func(t *testing.T) {
		var err error
		dbSecret, err = e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cs.CoreV1().Secrets(ns).Delete(ctx, "wiki-database", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		code, _, errs := e.bundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--set", "database.persistence.whenDeleted=Delete")
		if want := "give the old ones (--set database.auth.rootPassword=...,database.auth.password=...)"; code == 0 || !strings.Contains(errs, want) {
			t.Errorf("install onto the kept database without its Secret: exit %d, want %q:\n%s", code, want, errs)
		}
		dbSecret.ResourceVersion, dbSecret.UID = "", ""
		if _, err := e.cs.CoreV1().Secrets(ns).Create(ctx, dbSecret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}

	})
	testutil.Phase(t, "installed again, the release uses the same claims and Secrets", func(t *testing.T) {
		install(t)
		if s, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "wiki-database", metav1.GetOptions{}); err != nil || !reflect.DeepEqual(s.Data, dbSecret.Data) {
			t.Errorf("the reinstall did not take the kept database Secret back (%v)", err)
		}
		for _, name := range claims {
			pvc, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("claim %s after reinstalling: %v", name, err)
			}
			if string(pvc.UID) != uids[name] {
				t.Errorf("claim %s was made anew on reinstall", name)
			}
		}

	})
	testutil.Phase(t, "uninstall --delete-data deletes them", func(t *testing.T) {
		dry := e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--delete-data", "--dry-run")
		if want := "Would delete 2 claims with the data: data-wiki-database-0, wiki-mediawiki"; !strings.Contains(dry, want) {
			t.Errorf("uninstall --delete-data --dry-run output lacks %q:\n%s", want, dry)
		}
		out := e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--delete-data", "--wait")
		for _, want := range []string{"Deleted 2 claims with the data: data-wiki-database-0, wiki-mediawiki", "Deleted 2 Secrets the data was initialised with: wiki-database, wiki-mediawiki"} {
			if !strings.Contains(out, want) || strings.Contains(out, "kubectl") {
				t.Errorf("uninstall --delete-data output lacks %q (or offers a command):\n%s", want, out)
			}
		}
		if left := leftovers(ctx, e, ns); len(left) > 0 {
			t.Errorf("uninstall --delete-data --wait returned with %v left", left)
		}
	})
}

// TestKeptDataKeepsItsPasswords: the passwords a database was initialised
// with (MariaDB reads them at its first start only) live as long as its
// data. A plain uninstall keeps the Secret with the claim and says so (as
// does diff uninstall); an install under the same name takes both back,
// the same passwords on the same volume; --delete-data deletes the claim,
// then the Secret. An install onto a kept claim whose Secret was deleted
// by hand is refused in one line naming the claim and the two ways out,
// installs nothing, and each way out works; an upgrade of a release whose
// Secret was deleted by hand is refused too, storing no revision.
func TestKeptDataKeepsItsPasswords(t *testing.T) {
	e, ns := setupIn(t, "keptpw")
	ctx := context.Background()
	install := func(args ...string) {
		e.mustBundle(t, append([]string{"install", "db", "stable/mariadb", "-n", ns, "--create-namespace", "--wait", "--timeout", "2m"}, args...)...)
	}
	secret := func() map[string][]byte {
		t.Helper()
		s, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "db-mariadb", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret db-mariadb: %v", err)
		}
		return s.Data
	}
	claimUID := func() string {
		t.Helper()
		pvc, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-mariadb-0", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim data-db-mariadb-0: %v", err)
		}
		return string(pvc.UID)
	}
	left := func() string {
		l := leftovers(ctx, e, ns)
		sort.Strings(l)
		return strings.Join(l, " ")
	}
	const kept = "PersistentVolumeClaim/data-db-mariadb-0 Secret/db-mariadb"

	install()
	first, uid := secret(), claimUID()
	if len(first["mariadb-root-password"]) == 0 || len(first["mariadb-password"]) == 0 {
		t.Fatalf("Secret db-mariadb holds %v", first)
	}
	_, diffOut, _ := e.bundle(t, "diff", "uninstall", "db", "-n", ns, "--kubeconfig", e.kubeconfig)
	if want := "  keep Secret " + ns + "/db-mariadb the data was initialised with (--delete-data deletes it)"; !strings.Contains(diffOut, want) {
		t.Errorf("diff uninstall lacks %q:\n%s", want, diffOut)
	}
	out := e.mustBundle(t, "uninstall", "db", "-n", ns, "--wait")
	for _, want := range []string{
		"Kept 1 claim with the data: data-db-mariadb-0\n",
		"Kept 1 Secret the data was initialised with: db-mariadb\n",
		"Delete them with: kubectl delete pvc -n " + ns + " data-db-mariadb-0 && kubectl delete secret -n " + ns + " db-mariadb\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, out)
		}
	}
	if got := left(); got != kept {
		t.Errorf("after uninstall the namespace holds %s, want %s", got, kept)
	}

	// Installed again: the same passwords, on the same claim.
	install()
	if again := secret(); !reflect.DeepEqual(again, first) {
		t.Errorf("the reinstall generated new passwords for the kept data")
	}
	if claimUID() != uid {
		t.Errorf("the reinstall made claim data-db-mariadb-0 anew")
	}

	// Installed, its Secret deleted by hand: an upgrade is refused too and
	// stores no revision; put back, the Secret is the release's again.
	saved, err := e.cs.CoreV1().Secrets(ns).Get(ctx, "db-mariadb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cs.CoreV1().Secrets(ns).Delete(ctx, "db-mariadb", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.bundle(t, "upgrade", "db", "stable/mariadb", "-n", ns)
	want := "claim data-db-mariadb-0 holds data initialised with mariadb-root-password and mariadb-password, which Secret db-mariadb no longer holds: " +
		"give the old ones (--set auth.rootPassword=...,auth.password=...), or delete the data to start afresh (bundle uninstall db -n " + ns + " --delete-data, then install)"
	if code == 0 || !strings.Contains(errs, want) {
		t.Errorf("upgrade without the passwords of its data: exit %d, want %q:\n%s", code, want, errs)
	}
	if rel := e.lastRevision(t, ns, "db"); rel.Version != 1 {
		t.Errorf("the refused upgrade stored revision %d", rel.Version)
	}
	saved.ResourceVersion, saved.UID = "", ""
	if _, err := e.cs.CoreV1().Secrets(ns).Create(ctx, saved, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// --delete-data: the claim, then the Secret.
	_, diffOut, _ = e.bundle(t, "diff", "uninstall", "db", "-n", ns, "--delete-data", "--kubeconfig", e.kubeconfig)
	if want := "- delete Secret " + ns + "/db-mariadb the data was initialised with"; !strings.Contains(diffOut, want) {
		t.Errorf("diff uninstall --delete-data lacks %q:\n%s", want, diffOut)
	}
	out = e.mustBundle(t, "uninstall", "db", "-n", ns, "--delete-data", "--wait")
	for _, want := range []string{"Deleted 1 claim with the data: data-db-mariadb-0\n", "Deleted 1 Secret the data was initialised with: db-mariadb\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall --delete-data output lacks %q:\n%s", want, out)
		}
	}
	e.emptied(t, ns)

	// The data kept, its Secret deleted by hand: refused, nothing installed.
	install()
	old, uid := secret(), claimUID()
	e.mustBundle(t, "uninstall", "db", "-n", ns, "--wait")
	if err := e.cs.CoreV1().Secrets(ns).Delete(ctx, "db-mariadb", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = e.bundle(t, "install", "db", "stable/mariadb", "-n", ns, "--wait", "--timeout", "2m")
	want = "claim data-db-mariadb-0, kept from an earlier install, holds data initialised with mariadb-root-password and mariadb-password, which Secret db-mariadb no longer holds: " +
		"give the old ones (--set auth.rootPassword=...,auth.password=...), or delete the data to start afresh (kubectl delete pvc -n " + ns + " data-db-mariadb-0)"
	if code == 0 || !strings.Contains(errs, want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
		t.Errorf("install onto kept data without its passwords: exit %d, want a refusal with %q:\n%s", code, want, errs)
	}
	if got := left(); got != "PersistentVolumeClaim/data-db-mariadb-0" {
		t.Errorf("the refused install left %s", got)
	}
	if code, _, errs := e.bundle(t, "diff", "install", "db", "stable/mariadb", "-n", ns, "--kubeconfig", e.kubeconfig); code == 0 || !strings.Contains(errs, want) {
		t.Errorf("diff install onto kept data without its passwords: exit %d, want %q:\n%s", code, want, errs)
	}

	// Way out one: the old passwords given.
	install("--set-string", "auth.rootPassword="+string(old["mariadb-root-password"]), "--set-string", "auth.password="+string(old["mariadb-password"]))
	if again := secret(); !reflect.DeepEqual(again, old) || claimUID() != uid {
		t.Errorf("installed with the old passwords given: Secret or claim not the old ones")
	}
	// Way out two: the data deleted.
	e.mustBundle(t, "uninstall", "db", "-n", ns, "--wait")
	if err := e.cs.CoreV1().Secrets(ns).Delete(ctx, "db-mariadb", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "data-db-mariadb-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "claim deleted", func() (bool, string) {
		_, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-mariadb-0", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	install()
	if fresh := secret(); reflect.DeepEqual(fresh, old) {
		t.Errorf("a fresh install onto no data reused the old passwords")
	}
	e.mustBundle(t, "uninstall", "db", "-n", ns, "--delete-data", "--wait")
	e.emptied(t, ns)
}
