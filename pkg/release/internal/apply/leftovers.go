package apply

// Deleting what the revision applied leaves out: the objects of the
// release's other stored revisions still in the cluster as its own.

import (
	"strings"

	"helm.sh/helm/v4/pkg/kube"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/resource"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// Leftovers returns the objects of the release's stored revisions that
// are neither in target nor in original (Helm deletes those), once each.
// Only those are built (Helm's Build costs tens of milliseconds a
// manifest): the others are told by their kind, namespace and name.
func (r Revisions) Leftovers(original, target kube.ResourceList) kube.ResourceList {
	hist, err := r.History()
	if err != nil {
		r.Log("release %q: reading its history for objects to delete: %v", r.Release, err)
		return nil
	}
	covered := func(id objectID) bool {
		for _, rl := range []kube.ResourceList{target, original} {
			for _, info := range rl {
				if info.Mapping != nil && id.matches(info, r.Namespace) {
					return true
				}
			}
		}
		return false
	}
	seen := map[objectID]bool{}
	var docs []string
	for _, rel := range hist {
		for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil || head.Kind == "" || head.Metadata.Name == "" {
				continue
			}
			group, _, _ := strings.Cut(head.APIVersion, "/")
			if !strings.Contains(head.APIVersion, "/") {
				group = ""
			}
			id := objectID{group: group, kind: head.Kind, namespace: head.Metadata.Namespace, name: head.Metadata.Name}
			if seen[id] || covered(id) {
				continue
			}
			seen[id] = true
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	rl, err := r.Build(strings.Join(docs, "\n---\n"))
	if err != nil {
		r.Log("release %q: the objects of earlier revisions it leaves out are not deleted: %v", r.Release, err)
		return nil
	}
	var out kube.ResourceList
	for _, info := range rl {
		if target.Get(info) == nil && original.Get(info) == nil && out.Get(info) == nil {
			out = append(out, info)
		}
	}
	return out
}

// objectID names an object of a manifest as written: its namespace is
// empty when the manifest leaves it to the release's.
type objectID struct{ group, kind, namespace, name string }

func (id objectID) matches(info *resource.Info, releaseNS string) bool {
	gk := info.Mapping.GroupVersionKind.GroupKind()
	if gk.Group != id.group || gk.Kind != id.kind || info.Name != id.name {
		return false
	}
	return info.Namespace == id.namespace || id.namespace == "" && (info.Namespace == releaseNS || info.Namespace == "")
}

// remove deletes one object the target leaves out, unless it is gone or
// kept (helm.sh/resource-policy: keep), or, when owned is set, no longer
// this release's. It reports whether it deleted the object.
func (a *Applier) remove(info *resource.Info, owned bool) bool {
	helper := a.helper(info)
	live, err := helper.Get(info.Namespace, info.Name)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			a.log("cannot get %s to delete it: %v", kubeobj.Describe(info), err)
		}
		return false
	}
	acc, err := meta.Accessor(live)
	if err != nil {
		return false
	}
	if acc.GetAnnotations()[kube.ResourcePolicyAnno] == kube.KeepPolicy {
		a.log("keeping %s (%s=%s)", kubeobj.Describe(info), kube.ResourcePolicyAnno, kube.KeepPolicy)
		return false
	}
	if owned && !a.revs.Owns(acc) {
		return false
	}
	if acc.GetDeletionTimestamp() != nil {
		return false
	}
	policy := metav1.DeletePropagationBackground
	uid := acc.GetUID()
	_, err = helper.DeleteWithOptions(info.Namespace, info.Name, &metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		a.log("failed to delete %s: %v", kubeobj.Describe(info), err)
		return false
	}
	a.log("deleted %s, which the revision applied leaves out", kubeobj.Describe(info))
	return err == nil
}

// Owns reports whether an object is marked as the release's, as Helm
// marks them.
func (r Revisions) Owns(obj metav1.Object) bool { return kubeobj.Owned(obj, r.Release, r.Namespace) }
