package cli

import (
	"fmt"
	"testing"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// The library states facts and fixes; the command line words them with its
// own commands and flags, wherever the error sits in the chain.
func TestWithHints(t *testing.T) {
	lock := errdefs.Fixable(errdefs.ErrStale, []errdefs.Fix{{Run: []string{"lock", "./app"}}, {Options: []string{"locked"}, Drop: true}}, "./app has no bundle.lock")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{lock, "./app has no bundle.lock: run bundle lock ./app, or drop --locked"},
		{fmt.Errorf("rendering: %w", lock), "rendering: ./app has no bundle.lock: run bundle lock ./app, or drop --locked"},
		{errdefs.Fixable(errdefs.ErrNotFound, []errdefs.Fix{{See: []string{"list", "-A"}}}, `release "x" not found`), `release "x" not found (see bundle list -A)`},
		{errdefs.Fixable(errdefs.ErrUnreachable, []errdefs.Fix{{Options: []string{"kubeconfig", "kube-context"}}}, "cannot reach the cluster"), "cannot reach the cluster: check --kubeconfig and --kube-context"},
		{&errdefs.NoVersionError{Bundle: "stable/x", Constraint: "^2", Available: []string{"1.0.0"}}, "no version of stable/x satisfies --version ^2 (available: 1.0.0)"},
		{&errdefs.NoVersionError{Bundle: "dev/x", Available: []string{"2.0.0-rc.1"}}, "dev/x has no stable version (available: 2.0.0-rc.1): choose a prerelease with --devel or --version"},
		{fmt.Errorf("plain"), "plain"},
	} {
		if got := withHints(tt.err); got != tt.want {
			t.Errorf("withHints(%v)\n got  %s\n want %s", tt.err, got, tt.want)
		}
	}
	// The library's own text is the facts alone.
	if lock.Error() != "./app has no bundle.lock" {
		t.Errorf("library message %q speaks the command line", lock.Error())
	}
}
