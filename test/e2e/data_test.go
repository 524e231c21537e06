package e2e

import (
	"context"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestUninstallKeepsData: uninstall keeps a release's claims, the data,
// even when its StatefulSet's claim retention policy says Delete: the
// claim the database's StatefulSet made and the wiki's own claim stay,
// everything else goes, and the output names them with the command that
// deletes them. A new install under the same name finds the same claims;
// uninstall --delete-data then deletes them, and --dry-run says so first.
func TestUninstallKeepsData(t *testing.T) {
	e, ns := setupIn(t, "data")
	ctx := context.Background()
	install := func() {
		e.mustBundle(t, "install", "wiki", "stable/mediawiki", "-n", ns, "--create-namespace", "--wait", "--timeout", "2m",
			"--set", "database.persistence.whenDeleted=Delete")
	}
	install()
	claims := []string{"data-wiki-database-0", "wiki-mediawiki"}
	sts, err := e.cs.AppsV1().StatefulSets(ns).Get(ctx, "wiki-database", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != "Delete" {
		t.Fatalf("the StatefulSet's claim retention policy is %+v; the test needs whenDeleted: Delete", p)
	}

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
		"Delete them with: kubectl delete pvc -n " + ns + " data-wiki-database-0 wiki-mediawiki",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, out)
		}
	}
	left := leftovers(ctx, e, ns)
	sort.Strings(left)
	if want := []string{"PersistentVolumeClaim/data-wiki-database-0", "PersistentVolumeClaim/wiki-mediawiki"}; strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("after uninstall the namespace holds %v, want only the claims %v", left, want)
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
	uids := map[string]string{}
	for _, name := range claims {
		pvc, _ := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		uids[name] = string(pvc.UID)
	}

	// Installed again, the release uses the same claims.
	install()
	for _, name := range claims {
		pvc, err := e.cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim %s after reinstalling: %v", name, err)
		}
		if string(pvc.UID) != uids[name] {
			t.Errorf("claim %s was made anew on reinstall", name)
		}
	}

	dry = e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--delete-data", "--dry-run")
	if want := "Would delete 2 claims with the data: data-wiki-database-0, wiki-mediawiki"; !strings.Contains(dry, want) {
		t.Errorf("uninstall --delete-data --dry-run output lacks %q:\n%s", want, dry)
	}
	out = e.mustBundle(t, "uninstall", "wiki", "-n", ns, "--delete-data", "--wait")
	if want := "Deleted 2 claims with the data: data-wiki-database-0, wiki-mediawiki"; !strings.Contains(out, want) || strings.Contains(out, "kubectl") {
		t.Errorf("uninstall --delete-data output lacks %q (or offers a command):\n%s", want, out)
	}
	if left := leftovers(ctx, e, ns); len(left) > 0 {
		t.Errorf("uninstall --delete-data --wait returned with %v left", left)
	}
}
