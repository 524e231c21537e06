package release

// The kube engine's glue: the Client methods and names that wire the
// internal packages (the applier, the waiter, the validator, the volumes
// of an uninstall, the lease and its fence, --debug's transport) into the
// lifecycle operations. The engine's packages know Helm's kube client and
// the Kubernetes API, and nothing of bundles; this file is where the two
// meet.

import (
	"github.com/bundlesh/bundle/pkg/release/internal/debug"
)

// --debug's output (see package debug).
var (
	// debugLog is Helm's log function for --debug.
	debugLog = debug.Log
	// debugTransport makes every request to the cluster print a line
	// before it is sent and one when it is answered, redacted.
	debugTransport = debug.Transport
)
