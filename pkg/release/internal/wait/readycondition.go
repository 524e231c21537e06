package wait

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/engine"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/event"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/statusreaders"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// readyConditionReader is kstatus' status reader with bundle's
// changes to its judgement:
//
//   - Failed means "cannot become ready without a change", as in Helm 3's
//     wait, which gives up early only on a failed Job: kstatus also calls
//     a pod unschedulable for more than 15 seconds, a crash-looping
//     container and a Deployment past its progress deadline failed (and
//     a StatefulSet or ReplicaSet with such a pod), though each becomes
//     ready by itself once a node is added, a volume provisioned or a
//     dependency up. Those are in progress here (see notYet): the wait
//     waits for them until its timeout, whose explanation says why they
//     are not ready. Still failed: a Job that failed (past its backoff
//     limit or deadline), a resource whose own Stalled condition is True
//     (its controller says it will not go on), a CRD whose names clash.
//   - A Job is ready once it has completed (jobDone), not once started.
//   - The Ready condition of custom resources is honoured: kstatus reads
//     their Reconciling and Stalled conditions and otherwise calls them
//     Current, but most operators (Crossplane, cert-manager, Flux,
//     Cluster API) say readiness with a Ready condition. A custom
//     resource whose Ready condition is not True is in progress, with the
//     condition's reason and message; one without a Ready condition is as
//     kstatus says.
type readyConditionReader struct {
	engine.StatusReader
}

func newStatusReader(mapper meta.RESTMapper) engine.StatusReader {
	return readyConditionReader{statusreaders.NewDefaultStatusReader(mapper)}
}

func (r readyConditionReader) ReadStatus(ctx context.Context, reader engine.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	rs, err := r.StatusReader.ReadStatus(ctx, reader, id)
	return withReadyCondition(jobDone(judged(rs))), err
}

func (r readyConditionReader) ReadStatusForObject(ctx context.Context, reader engine.ClusterReader, obj *unstructured.Unstructured) (*event.ResourceStatus, error) {
	rs, err := r.StatusReader.ReadStatusForObject(ctx, reader, obj)
	return withReadyCondition(jobDone(judged(rs))), err
}

// jobDone makes a Job ready only once it has completed, as Helm's
// WaitWithJobs (the only wait that waits for Jobs) does: kstatus calls
// one Current as soon as it has started.
func jobDone(rs *event.ResourceStatus) *event.ResourceStatus {
	if rs == nil || rs.Resource == nil || rs.Status != status.CurrentStatus || rs.Identifier.GroupKind != (schema.GroupKind{Group: "batch", Kind: "Job"}) {
		return rs
	}
	if c := condition(rs.Resource.Object, "Complete"); c != nil && c["status"] == "True" {
		return rs
	}
	out := *rs
	out.Status = status.InProgressStatus
	return &out
}

// notYet are the reasons of kstatus' Failed that are only "not yet", by
// kind: the cluster goes on trying, and the resource becomes ready
// without anyone changing it once what it waits for is there.
var notYet = map[schema.GroupKind][]string{
	// No node fits yet (the autoscaler adds one, a volume is provisioned,
	// another pod goes); a container restarts until what it needs is up
	// (a database at its first start).
	{Kind: "Pod"}: {"PodUnschedulable", "ContainerCrashLooping"},
	// The controller only reports the deadline and goes on rolling out.
	{Group: "apps", Kind: "Deployment"}: {"ProgressDeadlineExceeded"},
}

// judged is rs with kstatus' Failed turned into InProgress where the
// resource, or the pods it is failed for, is only not ready yet (notYet).
func judged(rs *event.ResourceStatus) *event.ResourceStatus {
	if rs == nil || rs.Status != status.FailedStatus || rs.Resource == nil {
		return rs
	}
	res, err := status.Compute(rs.Resource)
	if err != nil {
		return rs
	}
	if res.Status == status.FailedStatus {
		if !stalledFor(res, notYet[rs.Identifier.GroupKind]) {
			return rs
		}
		res.Status = status.InProgressStatus
	}
	gen := make(event.ResourceStatuses, len(rs.GeneratedResources))
	for i, g := range rs.GeneratedResources {
		if gen[i] = judged(g); gen[i] != nil && gen[i].Status == status.FailedStatus && res.Status == status.InProgressStatus {
			return rs // as kstatus: a pod that cannot become ready fails its controller
		}
	}
	out := *rs
	out.Status, out.Message, out.GeneratedResources = res.Status, res.Message, gen
	return &out
}

// stalledFor tells whether res is failed for one of reasons.
func stalledFor(res *status.Result, reasons []string) bool {
	for _, c := range res.Conditions {
		if c.Type != status.ConditionStalled {
			continue
		}
		for _, r := range reasons {
			if c.Reason == r {
				return true
			}
		}
	}
	return false
}

func withReadyCondition(rs *event.ResourceStatus) *event.ResourceStatus {
	if rs == nil || rs.Resource == nil || rs.Status != status.CurrentStatus || builtinGroup(rs.Identifier.GroupKind.Group) {
		return rs
	}
	c := condition(rs.Resource.Object, "Ready")
	if c == nil || c["status"] == "True" {
		return rs
	}
	out := *rs
	out.Status = status.InProgressStatus
	out.Message = joinNonEmpty("Ready "+str(c["status"]), str(c["reason"]), str(c["message"]))
	return &out
}

// builtinGroup tells Kubernetes' own API groups, whose kinds kstatus knows.
func builtinGroup(g string) bool {
	return g == "" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}
