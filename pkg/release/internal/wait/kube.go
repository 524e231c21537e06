package wait

// The waiter as Helm's kube client: Helm's actions decide when to wait,
// and wait with it.

import (
	"io"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// Kube is Helm's kube client with bundle's waiter: its waits are the
// Waiter's, everything else is the client's.
type Kube struct {
	kube.Interface
	Waiter *Waiter
}

// Wait waits for every resource but Jobs, as Helm's Wait does.
func (k Kube) Wait(rl kube.ResourceList, timeout time.Duration) error {
	return k.Waiter.wait(idsOf(rl, false), timeout)
}

// WaitWithJobs waits for every resource, Jobs to complete.
func (k Kube) WaitWithJobs(rl kube.ResourceList, timeout time.Duration) error {
	return k.Waiter.wait(idsOf(rl, true), timeout)
}

func idsOf(rl kube.ResourceList, jobs bool) object.ObjMetadataSet {
	var ids object.ObjMetadataSet
	for _, r := range rl {
		if r.Mapping == nil {
			continue
		}
		gk := r.Mapping.GroupVersionKind.GroupKind()
		if !jobs && gk.Group == "batch" && gk.Kind == "Job" {
			continue
		}
		ids = append(ids, object.ObjMetadata{Namespace: r.Namespace, Name: r.Name, GroupKind: gk})
	}
	return ids
}

// The optional interfaces of Helm's kube client, which its actions look
// for (Install calls UpdateThreeWayMerge without asking).

// WaitForDelete waits until the resources are gone, with bundle's waiter
// (see WaitDeleted): Helm's has no bound on its requests.
func (k Kube) WaitForDelete(rl kube.ResourceList, timeout time.Duration) error {
	return k.Waiter.WaitDeleted(rl, timeout)
}

func (k Kube) UpdateThreeWayMerge(original, target kube.ResourceList, force bool) (*kube.Result, error) {
	if m, ok := k.Interface.(kube.InterfaceThreeWayMerge); ok {
		return m.UpdateThreeWayMerge(original, target, force)
	}
	return k.Interface.Update(original, target, force)
}

func (k Kube) DeleteWithPropagationPolicy(rl kube.ResourceList, policy metav1.DeletionPropagation) (*kube.Result, []error) {
	if d, ok := k.Interface.(kube.InterfaceDeletionPropagation); ok {
		return d.DeleteWithPropagationPolicy(rl, policy)
	}
	return k.Interface.Delete(rl)
}

func (k Kube) GetPodList(namespace string, opts metav1.ListOptions) (*corev1.PodList, error) {
	if l, ok := k.Interface.(kube.InterfaceLogs); ok {
		return l.GetPodList(namespace, opts)
	}
	return &corev1.PodList{}, nil
}

func (k Kube) OutputContainerLogsForPodList(pods *corev1.PodList, namespace string, writerFunc func(namespace, pod, container string) io.Writer) error {
	if l, ok := k.Interface.(kube.InterfaceLogs); ok {
		return l.OutputContainerLogsForPodList(pods, namespace, writerFunc)
	}
	return nil
}

func (k Kube) Get(rl kube.ResourceList, related bool) (map[string][]runtime.Object, error) {
	if r, ok := k.Interface.(kube.InterfaceResources); ok {
		return r.Get(rl, related)
	}
	return nil, nil
}

func (k Kube) BuildTable(reader io.Reader, validate bool) (kube.ResourceList, error) {
	if r, ok := k.Interface.(kube.InterfaceResources); ok {
		return r.BuildTable(reader, validate)
	}
	return k.Interface.Build(reader, validate)
}
