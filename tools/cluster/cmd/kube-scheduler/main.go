// Command kube-scheduler is the upstream kube-scheduler, built from the Go module proxy at the
// version pinned in this module's go.mod, for the local control plane.
package main

import (
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/bundlesh/bundle/tools/cluster/internal/component"
)

func main() {
	component.Run(app.NewSchedulerCommand())
}
