package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
)

// The library states facts and fixes; the command line words them with its
// own commands and flags, wherever the error sits in the chain.
func TestWithHints(t *testing.T) {
	_, badLock := bundle.ParseLock("app/bundle.lock", []byte("apiVersion: v0\n"))
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
		// Release commands name their namespace: the hint works when pasted.
		{errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{Run: []string{"upgrade", "wiki", "stable/mediawiki", "-n", "team"}}}, `release "wiki" already exists in namespace "team"`),
			`release "wiki" already exists in namespace "team": run bundle upgrade wiki stable/mediawiki -n team`},
		{fmt.Errorf("plain"), "plain"},
		// A file's error keeps its place and hint, and gains the fix.
		{fmt.Errorf("checking the lock: %w", badLock), `checking the lock: app/bundle.lock:1: apiVersion: unsupported apiVersion "v0" (use bundle/v1): run bundle lock app`},
	} {
		if got := withHints(tt.err); got != tt.want {
			t.Errorf("withHints(%v)\n got  %s\n want %s", tt.err, got, tt.want)
		}
	}
	// The library's own text is the facts alone.
	if lock.Error() != "./app has no bundle.lock" {
		t.Errorf("library message %q speaks the command line", lock.Error())
	}
	if strings.Contains(badLock.Error(), "bundle lock") {
		t.Errorf("library message %q speaks the command line", badLock)
	}
}

// An option given a value it cannot use is named by the flag that set it.
func TestOptionErrorsNameTheFlag(t *testing.T) {
	for _, tt := range []struct {
		err  *errdefs.OptionError
		want string
	}{
		{&errdefs.OptionError{Option: "KubeVersion", Value: "x.y", Msg: "bad"}, `--kube-version "x.y": bad`},
		{&errdefs.OptionError{Option: "PostRenderer", Value: "/bin/nope", Msg: "not found"}, `--post-renderer /bin/nope: not found`},
		{&errdefs.OptionError{Option: "NameTemplate", Value: "w", Msg: "cannot make a name from a template and also be given one: drop one"}, `cannot set --name-template and also specify a name ("w"): drop one`},
		{&errdefs.OptionError{Option: "MaxHistory", Value: "-1", Msg: "give a number"}, `--history-max -1: give a number`},
		{&errdefs.OptionError{Option: "Unknown", Value: "v", Msg: "m"}, `Unknown "v": m`},
	} {
		if got := withHints(fmt.Errorf("rendering x: %w", tt.err)); got != "rendering x: "+tt.want {
			t.Errorf("got %q, want %q", got, "rendering x: "+tt.want)
		}
	}
}
