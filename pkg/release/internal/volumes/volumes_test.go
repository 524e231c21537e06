package volumes

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	kwait "github.com/bundlesh/bundle/pkg/release/internal/wait"
)

// recordingKube records what Helm asks it to delete and create.
type recordingKube struct {
	kube.Interface
	deleted []string
	created []*unstructured.Unstructured
}

func (r *recordingKube) Delete(rl kube.ResourceList, _ metav1.DeletionPropagation) (*kube.Result, []error) {
	r.deleted = append(r.deleted, infoNames(rl)...)
	return &kube.Result{}, nil
}

func infoNames(rl kube.ResourceList) []string {
	var out []string
	for _, i := range rl {
		gvk := i.Mapping.GroupVersionKind
		out = append(out, gvk.GroupKind().String()+" "+i.Namespace+"/"+i.Name)
	}
	return out
}

func info(kind, group, ns, name string) *resource.Info {
	return &resource.Info{Namespace: ns, Name: name, Mapping: &meta.RESTMapping{GroupVersionKind: schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind}}}
}

// The kube client Uninstall hands Helm deletes everything but the kept
// claims and Secrets: not a claim or Secret of the same name in another
// namespace, nor another kind's object of the same name.
func TestKeepingClaimsDeletesAllButKeptClaims(t *testing.T) {
	rec := &recordingKube{}
	k := Keeping{Interface: rec, Keep: map[string]bool{"team/wiki-files": true}, KeepSecrets: map[string]bool{"team/wiki-db": true}}
	rl := kube.ResourceList{
		info("PersistentVolumeClaim", "", "team", "wiki-files"),
		info("Secret", "", "team", "wiki-db"),
		info("PersistentVolumeClaim", "", "other", "wiki-files"),
		info("ConfigMap", "", "team", "wiki-files"),
		info("PersistentVolumeClaim", "example.com", "team", "wiki-files"),
		info("Secret", "", "team", "wiki-files"),
		info("PersistentVolumeClaim", "", "team", "wiki-db"),
		info("Secret", "", "other", "wiki-db"),
	}
	k.Delete(rl, metav1.DeletePropagationForeground)
	k.Delete(rl[:2], metav1.DeletePropagationBackground)
	want := []string{"PersistentVolumeClaim other/wiki-files", "ConfigMap team/wiki-files", "PersistentVolumeClaim.example.com team/wiki-files",
		"Secret team/wiki-files", "PersistentVolumeClaim team/wiki-db", "Secret other/wiki-db"}
	if !reflect.DeepEqual(rec.deleted, want) {
		t.Errorf("deleted %v, want %v", rec.deleted, want)
	}
}

func (r *recordingKube) Create(rl kube.ResourceList, _ ...kube.ClientCreateOption) (*kube.Result, error) {
	for _, i := range rl {
		r.created = append(r.created, i.Object.(*unstructured.Unstructured).DeepCopy())
	}
	return &kube.Result{}, nil
}

// unclaimHook is a claim's pre-delete hook as the catalog's claims made it
// before 1.2: DELETE_DATA read from the claim's ConfigMap, which an
// interrupted uninstall --delete-data could leave at "true".
func unclaimHook() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "wiki-database-unclaim", "namespace": "data", "annotations": map[string]any{"helm.sh/hook": "pre-delete"}},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
			"name": "unclaim",
			"env": []any{
				map[string]any{"name": "DB_HOST", "value": "team-db-mariadb"},
				map[string]any{"name": "DELETE_DATA", "valueFrom": map[string]any{"configMapKeyRef": map[string]any{"name": "wiki-database-claim", "key": "delete-data"}}},
			},
		}}}}},
	}}
}

// Whether an uninstall's hooks drop the data of claims is said on the
// hooks it creates, by that uninstall alone: "false" without DeleteData,
// whatever the hook would read from an object in the cluster.
func TestUninstallHooksGetDeleteData(t *testing.T) {
	for _, deleteData := range []bool{false, true} {
		rec := &recordingKube{}
		k := Keeping{Interface: rec, DeleteData: deleteData}
		if _, err := k.Create(kube.ResourceList{{Namespace: "data", Name: "wiki-database-unclaim", Object: unclaimHook()}}); err != nil {
			t.Fatal(err)
		}
		env, _, _ := unstructured.NestedSlice(rec.created[0].Object, "spec", "template", "spec", "containers")
		got := env[0].(map[string]any)["env"].([]any)
		want := []any{
			map[string]any{"name": "DB_HOST", "value": "team-db-mariadb"},
			map[string]any{"name": "DELETE_DATA", "value": strconv.FormatBool(deleteData)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("deleteData %v: env %v, want %v", deleteData, got, want)
		}
	}
}

// An uninstall's wait for its deleted objects (Keeping over
// wait.Kube): the kept claims are not waited for; it ends once the others
// are gone, or at its timeout naming those that are not, or at the
// interruption.
func TestWaitForDeleteEndsWhenGoneOrAtItsTimeout(t *testing.T) {
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	rl := func() kube.ResourceList {
		return kube.ResourceList{
			{Namespace: "shop", Name: "web", Mapping: &meta.RESTMapping{Resource: deployments, GroupVersionKind: deployments.GroupVersion().WithKind("Deployment"), Scope: meta.RESTScopeNamespace}},
			claimResources([]VolumeClaim{{Namespace: "shop", Name: "data"}})[0],
		}
	}
	deployment := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop"}}}
	pvc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "data", "namespace": "shop"}}}
	for _, tt := range []struct {
		name      string
		deleteWeb bool
		interrupt bool
		want      string // "": no error
	}{
		{name: "gone", deleteWeb: true},
		{name: "not gone", want: "1 of 1 resources not yet deleted after 1.5s: Deployment web"},
		{name: "interrupted", interrupt: true, want: "interrupt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), deployment, pvc)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			var waitErr error
			k := Keeping{Interface: kwait.Kube{Interface: &kubefake.PrintingKubeClient{Out: io.Discard}, Waiter: kwait.New(ctx, kwait.Config{Dyn: dyn})}, Keep: map[string]bool{"shop/data": true}, WaitErr: &waitErr}
			// Helm's uninstall asks the client for its waiter.
			w, err := k.GetWaiter(kube.StatusWatcherStrategy)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(300 * time.Millisecond)
				switch {
				case tt.deleteWeb:
					dyn.Resource(deployments).Namespace("shop").Delete(context.Background(), "web", metav1.DeleteOptions{})
				case tt.interrupt:
					cancel(errors.New("interrupt"))
				}
			}()
			start := time.Now()
			err = w.WaitForDelete(rl(), 1500*time.Millisecond)
			took := time.Since(start)
			if tt.want == "" {
				if err != nil || took > time.Second {
					t.Fatalf("wait: %v after %s, want it to end once web is gone (the kept claim not waited for)", err, took)
				}
				return
			}
			if err == nil || err.Error() != tt.want || waitErr != err {
				t.Fatalf("wait: %v (recorded %v), want %q", err, waitErr, tt.want)
			}
			var we *kwait.WaitError
			if errors.As(err, &we) && (!we.Deleting || len(we.Resources) != 1 || we.Resources[0].Reason != "not deleted") {
				t.Errorf("the WaitError: %+v", we)
			}
		})
	}
}
