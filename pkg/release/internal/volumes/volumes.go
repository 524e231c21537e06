// Package volumes is what an uninstall does with a release's data: the
// PersistentVolumeClaims of the release (its StatefulSets' and its
// manifest's) and the Secrets its data was initialised with, kept or
// deleted; and the kube client that has Helm's uninstall delete all else.
package volumes

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
	kwait "github.com/bundlesh/bundle/pkg/release/internal/wait"
	"github.com/bundlesh/bundle/pkg/render"
)

// VolumeClaim is a PersistentVolumeClaim of a release: its data. Either a
// StatefulSet of the release made it from one of its volumeClaimTemplates
// (TEMPLATE-STATEFULSET-ORDINAL), or it is an object of the release's
// manifest.
type VolumeClaim struct {
	Namespace string
	Name      string
	// StatefulSet that made the claim; empty for a claim of the manifest.
	StatefulSet string
}

// String is NAMESPACE/NAME.
func (c VolumeClaim) String() string { return c.Namespace + "/" + c.Name }

// DataSecretLabel, set to "true" on a Secret of a release, says that the
// Secret holds what the release's data was initialised with and depends
// on afterwards: a database's generated passwords, which its server reads
// at its first start only. Such a Secret lives as long as the data:
// Uninstall keeps it with the claims, and with DeleteData deletes it with
// them (after them). A chart that generates it with lookup then reads it
// back when installed again under the same name, onto the kept claims
// (Helm adopts it: it still carries the release's ownership marks).
const DataSecretLabel = "bundle.sh/kept-with-data"

// DataSecret is a Secret of a release labelled DataSecretLabel.
type DataSecret struct {
	Namespace string
	Name      string
}

// String is NAMESPACE/NAME.
func (s DataSecret) String() string { return s.Namespace + "/" + s.Name }

// DataSecrets finds the Secrets of a release its data was initialised
// with: those a revision of revs (the release's stored revisions) renders
// labelled DataSecretLabel "true", also when the last no longer renders
// them (an upgrade to auth.existingSecret left a kept one behind), that
// exist in the cluster still marked by Helm as rel's. What the revisions
// render decides, not the live label: a label added in the cluster does
// not have a Secret deleted with the data, nor does one removed there
// have it deleted without.
func DataSecrets(ctx context.Context, cs kubernetes.Interface, rel *helmrelease.Release, revs []*helmrelease.Release) ([]DataSecret, error) {
	named := map[DataSecret]bool{}
	for _, r := range append([]*helmrelease.Release{rel}, revs...) {
		for _, doc := range releaseutil.SplitManifests(r.Manifest) {
			var o manifestObject
			if yaml.Unmarshal([]byte(doc), &o) != nil || o.Kind != "Secret" || o.Metadata.Labels[DataSecretLabel] != "true" {
				continue
			}
			ns := o.Metadata.Namespace
			if ns == "" {
				ns = rel.Namespace
			}
			named[DataSecret{Namespace: ns, Name: o.Metadata.Name}] = true
		}
	}
	var out []DataSecret
	for s := range named {
		live, err := cs.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading Secret %s: %w", s, err)
		}
		if live.Annotations[kubeobj.ReleaseNameAnnotation] == rel.Name && live.Annotations[kubeobj.ReleaseNamespaceAnnotation] == rel.Namespace {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// manifestObject is what Claims reads of each object of a manifest.
type manifestObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"volumeClaimTemplates"`
	} `json:"spec"`
}

// StatefulSet names one StatefulSet of a release.
type StatefulSet struct{ Namespace, Name string }

// Claims finds the claims of a release that exist in the cluster: those of
// its manifest (whether or not Helm keeps them), and those its
// StatefulSets made from their volumeClaimTemplates. It also returns the
// release's StatefulSets that have templates.
func Claims(ctx context.Context, cs kubernetes.Interface, rel *helmrelease.Release) ([]VolumeClaim, []StatefulSet, error) {
	type template struct{ sts, prefix string }
	byNamespace := map[string][]template{}
	wanted := map[string]bool{} // NAMESPACE/NAME of claims in the manifest
	var sets []StatefulSet
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var o manifestObject
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			continue // Helm applied it, so this does not happen; nothing to keep either way
		}
		ns := o.Metadata.Namespace
		if ns == "" {
			ns = rel.Namespace
		}
		switch o.Kind {
		case "PersistentVolumeClaim":
			wanted[ns+"/"+o.Metadata.Name] = true
			if byNamespace[ns] == nil {
				byNamespace[ns] = []template{} // list the namespace's claims
			}
		case "StatefulSet":
			if len(o.Spec.VolumeClaimTemplates) == 0 {
				continue
			}
			sets = append(sets, StatefulSet{ns, o.Metadata.Name})
			for _, t := range o.Spec.VolumeClaimTemplates {
				byNamespace[ns] = append(byNamespace[ns], template{o.Metadata.Name, t.Metadata.Name + "-" + o.Metadata.Name + "-"})
			}
		}
	}
	var out []VolumeClaim
	for ns, templates := range byNamespace {
		list, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("listing the claims in namespace %q: %w", ns, err)
		}
		for _, pvc := range list.Items {
			if wanted[ns+"/"+pvc.Name] {
				out = append(out, VolumeClaim{Namespace: ns, Name: pvc.Name})
				continue
			}
			for _, t := range templates {
				if strings.HasPrefix(pvc.Name, t.prefix) && ordinal(strings.TrimPrefix(pvc.Name, t.prefix)) {
					out = append(out, VolumeClaim{Namespace: ns, Name: pvc.Name, StatefulSet: t.sts})
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, sets, nil
}

// ordinal reports whether s is a StatefulSet pod ordinal: decimal digits.
func ordinal(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Retain makes sure deleting the release's StatefulSets deletes none of
// the claims they made: each StatefulSet's claim retention policy becomes
// whenDeleted: Retain, and the claims lose the owner reference to it that
// policy Delete gave them (which the garbage collector would follow).
func Retain(ctx context.Context, cs kubernetes.Interface, sets []StatefulSet, kept []VolumeClaim) error {
	for _, s := range sets {
		patch := []byte(`{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain"}}}`)
		_, err := cs.AppsV1().StatefulSets(s.Namespace).Patch(ctx, s.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("keeping the claims of StatefulSet %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	for _, c := range kept {
		if c.StatefulSet == "" {
			continue
		}
		// The StatefulSet controller drops the reference too, now that the
		// policy is Retain: retry when it updated the claim first.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			pvc, err := cs.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			refs := pvc.OwnerReferences[:0:0]
			for _, r := range pvc.OwnerReferences {
				if r.Kind == "StatefulSet" && r.Name == c.StatefulSet {
					continue
				}
				refs = append(refs, r)
			}
			if len(refs) == len(pvc.OwnerReferences) {
				return nil
			}
			pvc.OwnerReferences = refs
			_, err = cs.CoreV1().PersistentVolumeClaims(c.Namespace).Update(ctx, pvc, metav1.UpdateOptions{})
			return err
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("keeping claim %s: %w", c, err)
		}
	}
	return nil
}

// DeleteClaims deletes claims, and with wait waits until they are gone.
// With w (nil without a dynamic client, in tests) it waits with bundle's
// waiter, every request bounded by the time left.
func DeleteClaims(ctx context.Context, cs kubernetes.Interface, del []VolumeClaim, wait bool, w *kwait.Waiter, timeout time.Duration) error {
	for _, c := range del {
		err := cs.CoreV1().PersistentVolumeClaims(c.Namespace).Delete(ctx, c.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting claim %s: %w", c, err)
		}
	}
	if !wait {
		return nil
	}
	if w != nil {
		return w.WaitDeleted(claimResources(del), timeout)
	}
	deadline := time.Now().Add(timeout)
	for _, c := range del {
		for {
			_, err := cs.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return fmt.Errorf("waiting for claim %s to be deleted: %w", c, err)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("claim %s not deleted after %s", c, timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// claimResources are claims as Helm's kube client lists resources.
func claimResources(claims []VolumeClaim) kube.ResourceList {
	mapping := &meta.RESTMapping{
		Resource:         corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"),
		GroupVersionKind: corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"),
		Scope:            meta.RESTScopeNamespace,
	}
	out := make(kube.ResourceList, 0, len(claims))
	for _, c := range claims {
		out = append(out, &resource.Info{Namespace: c.Namespace, Name: c.Name, Mapping: mapping})
	}
	return out
}

// DeleteDataSecrets deletes Secrets kept with the data, once the claims
// are deleted.
func DeleteDataSecrets(ctx context.Context, cs kubernetes.Interface, del []DataSecret) error {
	for _, s := range del {
		err := cs.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting Secret %s: %w", s, err)
		}
	}
	return nil
}

// Keeping is the Helm kube client of an uninstall: it deletes (and
// waits for the deletion of) everything it is given except the claims in
// Keep and the Secrets in KeepSecrets, and creates the pre-delete hooks
// with render.DeleteDataEnv set to DeleteData (see render.SetDeleteData):
// whether the claims of bindings drop their data is a parameter of this
// uninstall alone.
type Keeping struct {
	kube.Interface
	Keep        map[string]bool // NAMESPACE/NAME
	KeepSecrets map[string]bool // NAMESPACE/NAME
	DeleteData  bool
	// WaitErr, when set, receives the error of the wait for the deletion
	// (Helm's uninstall joins it into a string).
	WaitErr *error
}

// Create creates rl (on uninstall, only hooks run: Helm creates nothing
// else), each object's render.DeleteDataEnv set to k.DeleteData.
func (k Keeping) Create(rl kube.ResourceList, opts ...kube.ClientCreateOption) (*kube.Result, error) {
	for _, r := range rl {
		if u, ok := r.Object.(*unstructured.Unstructured); ok {
			render.SetDeleteData(u.Object, k.DeleteData)
		}
	}
	return k.Interface.Create(rl, opts...)
}

func (k Keeping) filter(rl kube.ResourceList) kube.ResourceList {
	out := kube.ResourceList{}
	for _, r := range rl {
		if r.Mapping != nil && r.Mapping.GroupVersionKind.Group == "" {
			switch kind := r.Mapping.GroupVersionKind.Kind; {
			case kind == "PersistentVolumeClaim" && k.Keep[r.Namespace+"/"+r.Name],
				kind == "Secret" && k.KeepSecrets[r.Namespace+"/"+r.Name]:
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// Delete deletes all but the kept claims and Secrets.
func (k Keeping) Delete(rl kube.ResourceList, policy metav1.DeletionPropagation) (*kube.Result, []error) {
	rl = k.filter(rl)
	if len(rl) == 0 {
		return &kube.Result{}, nil
	}
	return k.Interface.Delete(rl, policy)
}

// GetWaiter is the client's waiter, whose WaitForDelete waits for all
// but the kept claims and Secrets.
func (k Keeping) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	w, err := k.Interface.GetWaiter(ws)
	if err != nil {
		return nil, err
	}
	return keepingWaiter{Waiter: w, k: k}, nil
}

// GetWaiterWithOptions is GetWaiter with Helm's wait options, when the
// client takes them.
func (k Keeping) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	wo, ok := k.Interface.(kube.InterfaceWaitOptions)
	if !ok {
		return k.GetWaiter(ws)
	}
	w, err := wo.GetWaiterWithOptions(ws, opts...)
	if err != nil {
		return nil, err
	}
	return keepingWaiter{Waiter: w, k: k}, nil
}

type keepingWaiter struct {
	kube.Waiter
	k Keeping
}

// WaitForDelete waits for all but the kept claims and Secrets.
func (w keepingWaiter) WaitForDelete(rl kube.ResourceList, timeout time.Duration) error {
	err := w.Waiter.WaitForDelete(w.k.filter(rl), timeout)
	if err != nil && w.k.WaitErr != nil {
		*w.k.WaitErr = err
	}
	return err
}
