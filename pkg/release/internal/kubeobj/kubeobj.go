// Package kubeobj is the little the kube engine's packages share about the
// objects they send: the marks Helm sets on a release's objects, an
// object's unstructured form, how an object or an error is named in a
// one-line message, and how many objects are sent for at once
// (Concurrency, Each).
package kubeobj

import (
	"fmt"

	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Helm's ownership marks on a release's objects (action.setMetadataVisitor).
const (
	ManagedByLabel             = "app.kubernetes.io/managed-by"
	ReleaseNameAnnotation      = "meta.helm.sh/release-name"
	ReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	managedByHelm              = "Helm"
)

// Mark adds the labels and annotations Helm sets on the objects of rel
// before applying them (admission may look at them).
func Mark(rl kube.ResourceList, rel *helmrelease.Release) {
	for _, info := range rl {
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[ManagedByLabel] = managedByHelm
		u.SetLabels(labels)
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ReleaseNameAnnotation] = rel.Name
		ann[ReleaseNamespaceAnnotation] = rel.Namespace
		u.SetAnnotations(ann)
	}
}

// Owned reports whether obj is marked as release's of namespace ns, as
// Helm marks them.
func Owned(obj metav1.Object, release, ns string) bool {
	return obj.GetLabels()[ManagedByLabel] == managedByHelm &&
		obj.GetAnnotations()[ReleaseNameAnnotation] == release &&
		obj.GetAnnotations()[ReleaseNamespaceAnnotation] == ns
}

// AsUnstructured is obj in unstructured form: itself when it is.
func AsUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// ResourceFor is the dynamic client of info's object: of its resource,
// in its namespace when the resource is namespaced.
func ResourceFor(dyn dynamic.Interface, info *resource.Info) dynamic.ResourceInterface {
	if info.Mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return dyn.Resource(info.Mapping.Resource).Namespace(info.Namespace)
	}
	return dyn.Resource(info.Mapping.Resource)
}

// Describe names an object in a message: "KIND NAMESPACE/NAME", or
// "KIND NAME" when cluster-scoped.
func Describe(info *resource.Info) string {
	kind := "object"
	if info.Mapping != nil {
		kind = info.Mapping.GroupVersionKind.Kind
	}
	if info.Namespace != "" {
		return fmt.Sprintf("%s %s/%s", kind, info.Namespace, info.Name)
	}
	return kind + " " + info.Name
}

// OneLine is err's message on one line, its white space folded.
func OneLine(err error) string { return errdefs.OneLine(err.Error()) }
