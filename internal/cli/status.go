package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bluegreen"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// statusOptions are bundle status's flags.
type statusOptions struct {
	readOptions
	revisionOption
	showDesc bool
}

func statusCommand() *ucli.Command {
	o := &statusOptions{}
	return command("status", helpText{
		usage: "show a release: its resolved bundles and each resource's readiness",
		args:  "NAME",
		description: `REQUIRES shows each requirement's bundle, and for one bound to another release, that release
(its provider); CONSUMERS lists the releases bound to this one.`,
		examples: `bundle status wiki
bundle status wiki --revision 2 --show-desc
bundle status wiki -o yaml`,
	}, o.run, o.kube.flags(), []ucli.Flag{
		o.revisionOption.flag(),
		boolFlag(&o.showDesc, "show-desc", "print the revision's description"),
		o.output.flag(),
	})
}

func (o *statusOptions) run(c *ucli.Context) error {
	if err := o.revisionOption.check(c); err != nil {
		return err
	}
	cl, err := o.client(c, 1, "NAME")
	if err != nil {
		return err
	}
	st, err := cl.apps.Status(c.Context, c.Args().Get(0), o.revision)
	if err != nil {
		return err
	}
	if ok, err := o.output.write(c.App.Writer, toStatusObject(st)); ok {
		return err
	}
	return printStatus(c.App.Writer, st, o.showDesc)
}

func printStatus(w io.Writer, st *bluegreen.Status, showDesc bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\t%s\n", st.Name)
	fmt.Fprintf(tw, "NAMESPACE:\t%s\n", st.Namespace)
	fmt.Fprintf(tw, "REVISION:\t%d\n", st.Revision)
	fmt.Fprintf(tw, "STATUS:\t%s\n", st.Release.Status)
	fmt.Fprintf(tw, "UPDATED:\t%s\n", age(st.Updated))
	fmt.Fprintf(tw, "BUNDLE:\t%s %s (app %s)\n", st.Bundle, st.Version, st.AppVersion)
	ready := "no"
	if st.Ready() {
		ready = "yes"
	}
	fmt.Fprintf(tw, "READY:\t%s\n", ready)
	if bg := st.BlueGreen; bg != nil {
		spare := "none"
		if bg.Spare != "" {
			spare = fmt.Sprintf("%s (bundle rollback %s switches back to it; bundle prune %s removes it)", bg.SpareRelease(), st.Name, st.Name)
		}
		recorded := ""
		if r := bg.Record; r != nil {
			recorded = fmt.Sprintf("; the router's record says %s: bundle upgrade, rollback or prune %s records what they select", r.LiveRelease(), st.Name)
			if r.Live == "" {
				recorded = fmt.Sprintf("; the router's record says none: bundle upgrade, rollback or prune %s records what they select", st.Name)
			}
		}
		switch {
		case st.BlueGreenError != nil:
			fmt.Fprintf(tw, "LIVE:\tunknown: %s\n", withHints(st.BlueGreenError))
		case bg.Live == "":
			fmt.Fprintf(tw, "LIVE:\tnone: no colour was switched to yet (the first blue-green upgrade did not finish; run it again)\n")
		default:
			fmt.Fprintf(tw, "LIVE:\t%s (blue-green: these Services select it%s)\n", bg.LiveRelease(), recorded)
		}
		if st.BlueGreenError == nil {
			fmt.Fprintf(tw, "SPARE:\t%s\n", spare)
		}
	}
	if st.Drifted > 0 {
		fmt.Fprintf(tw, "DRIFTED:\t%s (bundle diff drift %s shows them; bundle upgrade takes them back)\n", plural(st.Drifted, "object"), st.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if showDesc {
		fmt.Fprintf(w, "DESCRIPTION: %s\n", st.Description)
	}
	if len(st.Resolved) > 0 {
		fmt.Fprintln(w, "\nREQUIRES:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  INSTANCE\tBUNDLE\tVERSION\tREPOSITORY")
		for _, d := range st.Resolved {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Instance, d.Bundle, d.Version, requirementSource(d))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(st.Consumers) > 0 {
		fmt.Fprintln(w, "\nCONSUMERS (releases bound to this one):")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  RELEASE\tINSTANCE\tREQUIRES")
		for _, co := range st.Consumers {
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\n", co, co.Instance, co.Requires, co.Constraint)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nRESOURCES:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tNAME\tSTATE")
	for _, r := range st.Resources {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Kind, r.Name, r.State)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	printTestSuite(w, st.Hooks)
	if n := strings.TrimSpace(st.Notes); n != "" {
		fmt.Fprintf(w, "\nNOTES:\n%s\n", n)
	}
	return nil
}

// requirementSource says where a requirement's instance is: its
// repository, the release it is bound to, or why nothing of it is
// installed.
func requirementSource(d plan.Resolved) string {
	switch {
	case d.Bound != "":
		return "bound to release " + d.Bound
	case d.Disabled && d.Condition != "":
		return fmt.Sprintf("not installed: disabled (%s is false)", d.Condition)
	case d.Disabled:
		return "not installed: disabled"
	case d.External:
		return "not installed: an existing service (values under external)"
	}
	return d.Repository
}

// printTestSuite prints how the test hooks last ran, as helm status does.
func printTestSuite(w io.Writer, hooks []release.Hook) {
	ran := false
	for _, h := range hooks {
		if !h.IsTest() || h.LastRun.StartedAt.IsZero() {
			continue
		}
		ran = true
		fmt.Fprintf(w, "TEST SUITE:     %s\nLast Started:   %s\nLast Completed: %s\nPhase:          %s\n",
			h.Name, h.LastRun.StartedAt.Format(time.ANSIC), h.LastRun.CompletedAt.Format(time.ANSIC), h.LastRun.Phase)
	}
	if !ran {
		fmt.Fprintln(w, "TEST SUITE: None")
	}
}
