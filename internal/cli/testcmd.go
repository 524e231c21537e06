package cli

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/release"
)

// testOptions are bundle test's flags.
type testOptions struct {
	kube kubeOptions
	release.TestOptions
	filter    ucli.StringSlice
	hideNotes bool
}

func testCommand() *ucli.Command {
	o := &testOptions{}
	return command("test", helpText{
		usage: "run a release's tests (its helm.sh/hook: test pods and jobs), as helm test",
		args:  "NAME",
		description: `The tests run one after the other, by helm.sh/hook-weight; the first failure
stops the run. The outcome is recorded in the release (bundle status shows it).`,
		examples: `bundle test wiki
bundle test wiki --logs --timeout 2m
bundle test wiki --filter name=wiki-test-connection`,
	}, o.run, o.kube.flags(), []ucli.Flag{
		durationFlag(&o.Timeout, "timeout", release.DefaultTimeout, "how long each test may take"),
		boolFlag(&o.Logs, "logs", "print the test pods' logs after the tests ran"),
		sliceFlag(&o.filter, "filter", "name=TEST runs only that test, '!name=TEST' skips it (repeatable, or comma-separated)"),
		boolFlag(&o.hideNotes, "hide-notes", "do not print the release's notes"),
	})
}

func (o *testOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "NAME"); err != nil {
		return err
	}
	if err := positiveTimeout(c, o.Timeout); err != nil {
		return err
	}
	opts := o.TestOptions
	notName := regexp.MustCompile(`^!\s?name=`)
	for _, f := range o.filter.Value() {
		switch {
		case strings.HasPrefix(f, "name="):
			opts.Only = append(opts.Only, strings.TrimPrefix(f, "name="))
		case notName.MatchString(f):
			opts.Skip = append(opts.Skip, notName.ReplaceAllLiteralString(f, ""))
		default:
			return usagef(c, "--filter %q: write name=TEST to run only TEST, or '!name=TEST' to skip it", f)
		}
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	name := c.Args().Get(0)
	res, err := cl.Test(c.Context, name, opts)
	if res != nil {
		printTestResult(c.App.Writer, res, !o.hideNotes)
	}
	if errors.Is(err, release.ErrTestFailed) && !opts.Logs {
		return fmt.Errorf("%w (see the test pods' output with bundle test %s --logs)", err, name)
	}
	return err
}

func printTestResult(w io.Writer, r *release.TestResult, notes bool) {
	fmt.Fprintf(w, "NAME: %s\n", r.Name)
	if !r.Updated.IsZero() {
		fmt.Fprintf(w, "LAST DEPLOYED: %s\n", r.Updated.Format(time.ANSIC))
	}
	fmt.Fprintf(w, "NAMESPACE: %s\nSTATUS: %s\nREVISION: %d\n", r.Namespace, r.Status, r.Revision)
	if len(r.Tests) == 0 {
		fmt.Fprintln(w, "TEST SUITE: None")
	}
	for _, h := range r.Tests {
		if h.LastRun.StartedAt.IsZero() {
			fmt.Fprintf(w, "TEST SUITE:     %s\nPhase:          not run (an earlier test failed)\n", h.Name)
			continue
		}
		fmt.Fprintf(w, "TEST SUITE:     %s\nLast Started:   %s\nLast Completed: %s\nPhase:          %s\n",
			h.Name, h.LastRun.StartedAt.Format(time.ANSIC), h.LastRun.CompletedAt.Format(time.ANSIC), h.LastRun.Phase)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "SKIPPED:        %s\n", strings.Join(r.Skipped, ", "))
	}
	if n := strings.TrimSpace(r.Notes); notes && n != "" {
		fmt.Fprintf(w, "NOTES:\n%s\n", n)
	}
	for _, l := range r.Logs {
		fmt.Fprintln(w)
		title := l.Pod
		if l.Container != "" {
			title += " (container " + l.Container + ")"
		}
		if l.Err != "" {
			fmt.Fprintf(w, "POD LOGS: %s: %s\n", title, l.Err)
			continue
		}
		fmt.Fprintf(w, "POD LOGS: %s\n%s\n", title, strings.TrimRight(l.Log, "\n"))
	}
}
