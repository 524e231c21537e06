package release

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/engine"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/event"
	"sigs.k8s.io/cli-utils/pkg/kstatus/polling/statusreaders"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/cli-utils/pkg/object"
)

// readyConditionReader is kstatus' status reader, which also honours the
// Ready condition of custom resources: kstatus reads their Reconciling
// and Stalled conditions and otherwise calls them Current, but most
// operators (Crossplane, cert-manager, Flux, Cluster API) say readiness
// with a Ready condition. A custom resource whose Ready condition is not
// True is in progress, with the condition's reason and message; one
// without a Ready condition is as kstatus says.
type readyConditionReader struct {
	engine.StatusReader
}

func newStatusReader(mapper meta.RESTMapper) engine.StatusReader {
	return readyConditionReader{statusreaders.NewDefaultStatusReader(mapper)}
}

func (r readyConditionReader) ReadStatus(ctx context.Context, reader engine.ClusterReader, id object.ObjMetadata) (*event.ResourceStatus, error) {
	rs, err := r.StatusReader.ReadStatus(ctx, reader, id)
	return withReadyCondition(rs), err
}

func (r readyConditionReader) ReadStatusForObject(ctx context.Context, reader engine.ClusterReader, obj *unstructured.Unstructured) (*event.ResourceStatus, error) {
	rs, err := r.StatusReader.ReadStatusForObject(ctx, reader, obj)
	return withReadyCondition(rs), err
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
