package wait

// The waiter as Helm's kube client: Helm's actions decide when to wait,
// and wait with it.

import (
	"time"

	"helm.sh/helm/v4/pkg/kube"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// Kube is Helm's kube client with bundle's waiter: its waits are the
// Waiter's, everything else is the client's.
type Kube struct {
	kube.Interface
	Waiter *Waiter
}

// GetWaiter returns bundle's waiter for every strategy but hookOnly, whose
// resource waits return at once (hooks are still watched by Helm's).
func (k Kube) GetWaiter(ws kube.WaitStrategy) (kube.Waiter, error) {
	hw, err := k.Interface.GetWaiter(ws)
	if err != nil {
		return nil, err
	}
	return waiter{k: k, hooks: hw, none: ws == kube.HookOnlyStrategy}, nil
}

// GetWaiterWithOptions is GetWaiter with Helm's wait options (the hooks'
// waiter takes them, when the client does).
func (k Kube) GetWaiterWithOptions(ws kube.WaitStrategy, opts ...kube.WaitOption) (kube.Waiter, error) {
	wo, ok := k.Interface.(kube.InterfaceWaitOptions)
	if !ok {
		return k.GetWaiter(ws)
	}
	hw, err := wo.GetWaiterWithOptions(ws, opts...)
	if err != nil {
		return nil, err
	}
	return waiter{k: k, hooks: hw, none: ws == kube.HookOnlyStrategy}, nil
}

type waiter struct {
	k     Kube
	hooks kube.Waiter
	none  bool
}

// Wait waits for every resource but Jobs, as Helm's Wait does.
func (w waiter) Wait(rl kube.ResourceList, timeout time.Duration) error {
	if w.none {
		return nil
	}
	return w.k.Waiter.wait(idsOf(rl, false), timeout)
}

// WaitWithJobs waits for every resource, Jobs to complete.
func (w waiter) WaitWithJobs(rl kube.ResourceList, timeout time.Duration) error {
	if w.none {
		return nil
	}
	return w.k.Waiter.wait(idsOf(rl, true), timeout)
}

// WaitForDelete waits until the resources are gone, with bundle's waiter.
func (w waiter) WaitForDelete(rl kube.ResourceList, timeout time.Duration) error {
	return w.k.Waiter.WaitDeleted(rl, timeout)
}

// WatchUntilReady is Helm's (hooks).
func (w waiter) WatchUntilReady(rl kube.ResourceList, timeout time.Duration) error {
	return w.hooks.WatchUntilReady(rl, timeout)
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
