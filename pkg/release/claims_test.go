package release

import (
	"context"
	"reflect"
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/internal/releasetest"
)

// dataManifest is a release with a StatefulSet making claims from its
// template "data", and a claim of its own; the Secrets its data was
// initialised with (wiki-db, and wiki-db-gone, not in the cluster) and
// two others: one the data does not depend on, one of the data that
// another release holds now.
const dataManifest = `---
apiVersion: v1
kind: Secret
metadata:
  name: wiki-db
  labels:
    bundle.sh/kept-with-data: "true"
---
apiVersion: v1
kind: Secret
metadata:
  name: wiki-db-gone
  labels:
    bundle.sh/kept-with-data: "true"
---
apiVersion: v1
kind: Secret
metadata:
  name: wiki-app
---
apiVersion: v1
kind: Secret
metadata:
  name: wiki-db-taken
  labels:
    bundle.sh/kept-with-data: "true"
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: wiki-db
spec:
  volumeClaimTemplates:
    - metadata:
        name: data
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: wiki-files
  annotations:
    helm.sh/resource-policy: keep
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: wiki
`

// dataFixture stores release "wiki" over dataManifest in namespace team,
// with its StatefulSet (retention policy Delete) and these claims in the
// cluster: the StatefulSet's two (owned by it, as policy Delete makes
// them), the release's own, and claims of others whose names only look
// alike.
func dataFixture(t *testing.T) (*releasetest.Fixture, *Client) {
	t.Helper()
	f := releasetest.New("team")
	// Revision 1 rendered a Secret of the data that revision 2 no longer
	// renders (auth.existingSecret set), kept.
	old := releasetest.Release("wiki", "team", 1, rcommon.StatusSuperseded, "mediawiki", "1.1.2", "1.43")
	old.Manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: wiki-db-old\n  labels:\n    bundle.sh/kept-with-data: \"true\"\n"
	f.Store(t, old)
	rel := releasetest.Release("wiki", "team", 2, rcommon.StatusDeployed, "mediawiki", "1.1.2", "1.43")
	rel.Manifest = dataManifest
	f.Store(t, rel)
	ctx := context.Background()
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "wiki-db", Namespace: "team", UID: "sts-uid"},
		Spec: appsv1.StatefulSetSpec{PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType}}}
	if _, err := f.Clientset.AppsV1().StatefulSets("team").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "wiki-db", UID: "sts-uid"}}
	for _, c := range []struct {
		ns, name string
		owned    bool
	}{
		{"team", "data-wiki-db-0", true}, {"team", "data-wiki-db-1", true}, {"team", "wiki-files", false},
		{"team", "data-wiki-db-x", false}, {"team", "data-wiki-db-0-copy", false}, {"team", "data-other-0", false}, {"other", "data-wiki-db-0", false},
	} {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: c.ns}}
		if c.owned {
			pvc.OwnerReferences = owner
		}
		if _, err := f.Clientset.CoreV1().PersistentVolumeClaims(c.ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sec := range []struct {
		ns, name, release string
		labelled          bool
	}{
		{"team", "wiki-db", "wiki", false},       // the data's (its label removed in the cluster)
		{"team", "wiki-db-old", "wiki", true},    // an earlier revision's, kept
		{"team", "wiki-app", "wiki", true},       // not the data's (labelled in the cluster only)
		{"team", "wiki-db-taken", "other", true}, // the data's, but another release's now
		{"team", "wiki-other", "wiki", true},     // in no revision
		{"other", "wiki-db", "wiki", true},       // not in a namespace of the release
	} {
		obj := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sec.name, Namespace: sec.ns,
			Annotations: map[string]string{"meta.helm.sh/release-name": sec.release, "meta.helm.sh/release-namespace": "team"}}}
		if sec.labelled {
			obj.Labels = map[string]string{DataSecretLabel: "true"}
		}
		if _, err := f.Clientset.CoreV1().Secrets(sec.ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return f, NewWithEnv(&Env{Config: f.Config(), Namespace: "team", AllNamespaces: f.AllNamespaces, Clientset: f.Kubernetes}, nil)
}

// wikiSecrets are the Secrets dataFixture's release's data was
// initialised with.
var wikiSecrets = []DataSecret{{Namespace: "team", Name: "wiki-db"}, {Namespace: "team", Name: "wiki-db-old"}}

func secretNames(t *testing.T, f *releasetest.Fixture, ns string) []string {
	t.Helper()
	l, err := f.Clientset.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range l.Items {
		names = append(names, s.Name)
	}
	return names
}

var wikiClaims = []VolumeClaim{
	{Namespace: "team", Name: "data-wiki-db-0", StatefulSet: "wiki-db"},
	{Namespace: "team", Name: "data-wiki-db-1", StatefulSet: "wiki-db"},
	{Namespace: "team", Name: "wiki-files"},
}

func pvcNames(t *testing.T, f *releasetest.Fixture, ns string) []string {
	t.Helper()
	l, err := f.Clientset.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range l.Items {
		names = append(names, p.Name)
	}
	return names
}

// Uninstall keeps the claims of the StatefulSet's template and of the
// manifest, and makes sure deleting the StatefulSet cannot take them: its
// retention policy becomes Retain and they lose their owner reference. It
// keeps and lists the Secrets the data was initialised with.
func TestUninstallKeepsClaims(t *testing.T) {
	f, c := dataFixture(t)
	ctx := context.Background()
	res, err := c.Uninstall(ctx, UninstallOptions{ReleaseName: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Kept, wikiClaims) || res.Deleted != nil || res.Name != "wiki" {
		t.Errorf("kept %v, deleted %v, want kept %v", res.Kept, res.Deleted, wikiClaims)
	}
	if !reflect.DeepEqual(res.KeptSecrets, wikiSecrets) || res.DeletedSecrets != nil {
		t.Errorf("kept Secrets %v, deleted %v, want kept %v", res.KeptSecrets, res.DeletedSecrets, wikiSecrets)
	}
	if got := secretNames(t, f, "team"); len(got) != 5 {
		t.Errorf("Secrets left in team: %v, want all 5", got)
	}
	sts, err := f.Clientset.AppsV1().StatefulSets("team").Get(ctx, "wiki-db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted; got != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("StatefulSet whenDeleted = %s, want Retain", got)
	}
	for _, cl := range wikiClaims {
		pvc, err := f.Clientset.CoreV1().PersistentVolumeClaims("team").Get(ctx, cl.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("claim %s: %v", cl.Name, err)
		}
		if len(pvc.OwnerReferences) > 0 {
			t.Errorf("claim %s still owned by %v", cl.Name, pvc.OwnerReferences)
		}
	}
}

// DeleteData deletes exactly the release's claims, and the Secrets its
// data was initialised with: those a revision renders labelled, still the
// release's, whatever their live labels say.
func TestUninstallDeleteData(t *testing.T) {
	f, c := dataFixture(t)
	res, err := c.Uninstall(context.Background(), UninstallOptions{ReleaseName: "wiki", DeleteData: true, WaitOptions: WaitOptions{Wait: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Deleted, wikiClaims) || res.Kept != nil {
		t.Errorf("deleted %v, kept %v, want deleted %v", res.Deleted, res.Kept, wikiClaims)
	}
	if !reflect.DeepEqual(res.DeletedSecrets, wikiSecrets) || res.KeptSecrets != nil {
		t.Errorf("deleted Secrets %v, kept %v, want deleted %v", res.DeletedSecrets, res.KeptSecrets, wikiSecrets)
	}
	if got, want := secretNames(t, f, "team"), []string{"wiki-app", "wiki-db-taken", "wiki-other"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets left in team: %v, want %v", got, want)
	}
	if got := secretNames(t, f, "other"); len(got) != 1 {
		t.Errorf("Secrets left in other: %v", got)
	}
	if got, want := pvcNames(t, f, "team"), []string{"data-other-0", "data-wiki-db-0-copy", "data-wiki-db-x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("claims left in team: %v, want %v", got, want)
	}
	if got := pvcNames(t, f, "other"); len(got) != 1 {
		t.Errorf("claims left in other: %v", got)
	}
}

// A dry run reports what it would keep or delete and changes nothing.
func TestUninstallDryRunClaims(t *testing.T) {
	for _, deleteData := range []bool{false, true} {
		f, c := dataFixture(t)
		res, err := c.Uninstall(context.Background(), UninstallOptions{ReleaseName: "wiki", DeleteData: deleteData, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		listed, secrets := res.Kept, res.KeptSecrets
		if deleteData {
			listed, secrets = res.Deleted, res.DeletedSecrets
		}
		if !res.DryRun || !reflect.DeepEqual(listed, wikiClaims) || !reflect.DeepEqual(secrets, wikiSecrets) {
			t.Errorf("DeleteData %v: dry run %v listed %v and %v, want %v and %v", deleteData, res.DryRun, listed, secrets, wikiClaims, wikiSecrets)
		}
		if n := len(secretNames(t, f, "team")); n != 5 {
			t.Errorf("DeleteData %v: a dry run left %d Secrets of 5", deleteData, n)
		}
		if n := len(pvcNames(t, f, "team")); n != 6 {
			t.Errorf("DeleteData %v: a dry run left %d claims of 6", deleteData, n)
		}
		pvc, _ := f.Clientset.CoreV1().PersistentVolumeClaims("team").Get(context.Background(), "data-wiki-db-0", metav1.GetOptions{})
		sts, _ := f.Clientset.AppsV1().StatefulSets("team").Get(context.Background(), "wiki-db", metav1.GetOptions{})
		if len(pvc.OwnerReferences) != 1 || sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			t.Errorf("DeleteData %v: a dry run changed the StatefulSet or its claims", deleteData)
		}
		if f.Last(t, "wiki").Info.Status != rcommon.StatusDeployed {
			t.Errorf("DeleteData %v: a dry run uninstalled the release", deleteData)
		}
	}
}
