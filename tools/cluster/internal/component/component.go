// Package component runs an upstream Kubernetes component's command as its
// own main does: with the time zone database, the JSON log format and the
// client-go and version metrics registered (the blank imports of
// kubernetes' cmd/kube-* mains), exiting with the command's status.
package component

import (
	"os"
	_ "time/tzdata" // for CronJob time zones on machines without tzdata

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
)

// Run runs cmd and exits with its status.
func Run(cmd *cobra.Command) {
	os.Exit(cli.Run(cmd))
}
