package release

import (
	"bytes"
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/kube"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/bundlesh/bundle/pkg/release/internal/kubeobj"
)

// Resource is one object of a release and whether it is ready.
type Resource struct {
	Kind      string
	Namespace string
	Name      string
	// State is "ready", "not ready" or "missing".
	State string
}

// Status is a release revision with the readiness of each of its objects.
type Status struct {
	*Details
	Resources []Resource
	// Consumers are the releases bound to this one (its providers are
	// the Resolved entries with Bound set).
	Consumers []Consumer
	// Drifted is the number of objects of the current revision whose
	// live state is not what the release applied (see Drift): fields it
	// sets changed by hand, objects deleted. -1 when not known: the
	// status of an earlier revision, or the comparison failed (DriftError
	// says why).
	Drifted    int
	DriftError error
}

// Ready reports whether every resource is ready.
func (s *Status) Ready() bool {
	for _, r := range s.Resources {
		if r.State != "ready" {
			return false
		}
	}
	return true
}

// Status returns a revision of a release (0: the latest), its resolved
// bundles and the readiness of each object in its manifest now (plus the
// claims of its StatefulSets), using Helm's readiness rules.
func (c *Client) Status(ctx context.Context, name string, revision int) (*Status, error) {
	r, rel, err := c.get(ctx, name, revision)
	if err != nil {
		return nil, err
	}
	// The revision in the cluster, whose drift is compared (the latest
	// is read again only when an earlier revision was asked for).
	var cur *helmrelease.Release
	if revision == 0 {
		cur = c.hist.upgradeBase(r)
	} else {
		cur = c.hist.base(name)
	}
	st := &Status{Details: rel, Drifted: -1}
	// The releases bound to this one are found (reading every release's
	// record) while the objects are read.
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		st.Consumers, _ = c.links.consumers(ctx, name) // none found is no reason to fail
	}()
	defer func() { <-consumed }()
	kc := c.reading()
	infos, err := kc.Build(bytes.NewBufferString(rel.Manifest), false)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %q: %w", name, err)
	}
	cs, err := c.env.Clientset()
	if err != nil {
		return nil, err
	}
	// The drift of the current revision is compared while the objects'
	// readiness is read: both are a few requests per object.
	drifted := make(chan struct{})
	if cur != nil && cur.Version == rel.Revision {
		go func() {
			defer close(drifted)
			if n, err := c.drifted(ctx, cur, kc); err != nil {
				st.DriftError = err
			} else {
				st.Drifted = n
			}
		}()
	} else {
		close(drifted)
	}
	defer func() { <-drifted }()
	checker := kube.NewReadyChecker(cs, kube.PausedAsReady(true), kube.CheckJobs(true))
	found := make([][]Resource, len(infos))
	errs := make([]error, len(infos))
	kubeobj.Each(ctx, len(infos), kubeobj.Concurrency, func(i int) {
		found[i], errs[i] = resourceStates(ctx, cs, checker, infos[i])
	})
	for i := range infos {
		if errs[i] != nil {
			return nil, errs[i]
		}
		st.Resources = append(st.Resources, found[i]...)
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	<-drifted
	<-consumed
	return st, nil
}

// resourceStates reads an object of a release and says whether it is
// ready; a StatefulSet's claims follow it.
func resourceStates(ctx context.Context, cs kubernetes.Interface, checker kube.ReadyChecker, info *resource.Info) ([]Resource, error) {
	r := Resource{Kind: info.Mapping.GroupVersionKind.Kind, Namespace: info.Namespace, Name: info.Name}
	if err := info.Get(); err != nil {
		if apierrors.IsNotFound(err) {
			r.State = "missing"
			return []Resource{r}, nil
		}
		return nil, fmt.Errorf("%s %s: %w", r.Kind, r.Name, err)
	}
	r.State = state(checker.IsReady(ctx, info))
	out := []Resource{r}
	if r.Kind != "StatefulSet" {
		return out, nil
	}
	claims, err := statefulSetClaims(info.Object)
	if err != nil {
		return nil, err
	}
	for _, claim := range claims {
		cr := Resource{Kind: "PersistentVolumeClaim", Namespace: info.Namespace, Name: claim}
		pvc, err := cs.CoreV1().PersistentVolumeClaims(info.Namespace).Get(ctx, claim, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			cr.State = "missing"
		case err != nil:
			return nil, err
		case pvc.Status.Phase == "Bound":
			cr.State = "ready"
		default:
			cr.State = "not ready"
		}
		out = append(out, cr)
	}
	return out, nil
}

func state(ready bool, err error) string {
	if err == nil && ready {
		return "ready"
	}
	return "not ready"
}

// statefulSetClaims names the claims a StatefulSet's volumeClaimTemplates
// make: TEMPLATE-STATEFULSET-ORDINAL.
func statefulSetClaims(obj runtime.Object) ([]string, error) {
	var sts appsv1.StatefulSet
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, &sts); err != nil {
		return nil, err
	}
	replicas := int32(1)
	if sts.Spec.Replicas != nil {
		replicas = *sts.Spec.Replicas
	}
	var out []string
	for _, t := range sts.Spec.VolumeClaimTemplates {
		for i := int32(0); i < replicas; i++ {
			out = append(out, fmt.Sprintf("%s-%s-%d", t.Name, sts.Name, i))
		}
	}
	return out, nil
}
