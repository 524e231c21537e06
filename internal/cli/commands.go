package cli

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/release"
)

// listOptions are bundle list's flags.
type listOptions struct {
	kube kubeOptions
	release.ListOptions
	short, noHeaders bool
	bindings         bool
	timeFormat       string
	output           outputOption
}

func listCommand() *ucli.Command {
	o := &listOptions{output: outputOption{graphs: true}}
	return withAliases(command("list", helpText{}, o.run, o.kube.flags(), []ucli.Flag{
		boolFlag(&o.AllNamespaces, "all-namespaces", "list releases of every namespace", "A"),
		boolFlag(&o.All, "all", "list releases in every state", "a"),
		boolFlag(&o.Deployed, "deployed", "list deployed releases (the default, with --failed, when no state flag is given)"),
		boolFlag(&o.Failed, "failed", "list failed releases"),
		boolFlag(&o.Pending, "pending", "list pending releases (installing, upgrading, rolling back)"),
		boolFlag(&o.Superseded, "superseded", "list superseded revisions"),
		boolFlag(&o.Uninstalled, "uninstalled", "list releases uninstalled with --keep-history"),
		boolFlag(&o.Uninstalling, "uninstalling", "list releases being uninstalled"),
		stringFlag(&o.Filter, "filter", "", "only names matching this regular expression", "f"),
		stringFlag(&o.Selector, "selector", "", "label query on the release records, e.g. -l name=wiki,owner=helm", "l"),
		boolFlag(&o.ByDate, "date", "sort by the time of the last deployment", "d"),
		boolFlag(&o.Reverse, "reverse", "reverse the order", "r"),
		intFlag(&o.Max, "max", 256, "list at most this many releases (0: all)", "m"),
		intFlag(&o.Offset, "offset", 0, "skip this many releases of the sorted list"),
		boolFlag(&o.short, "short", "print the names only", "q"),
		boolFlag(&o.noHeaders, "no-headers", "omit the table header"),
		stringFlag(&o.timeFormat, "time-format", "", `format times with this Go layout, e.g. "2006-01-02 15:04:05Z0700"`),
		boolFlag(&o.bindings, "bindings", "list the bindings: each release's requirements bound to other releases, and its consumers"),
		stringFlag(&o.output.format, "output", outTable, "output format: table, json, yaml, or the bindings graph: dot (Graphviz) or mermaid", "o"),
	}), "ls")
}

func (o *listOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	if err := o.output.check(c); err != nil {
		return err
	}
	if o.Filter != "" {
		if _, err := regexp.Compile(o.Filter); err != nil {
			return usagef(c, "--filter %q: %v (write a regular expression such as '^wiki')", o.Filter, err)
		}
	}
	if o.Max < 0 || o.Offset < 0 {
		return usagef(c, "--max %d, --offset %d: must not be negative", o.Max, o.Offset)
	}
	graphOut := o.output.format == outDOT || o.output.format == outMermaid
	if graphOut && o.short {
		return usagef(c, "--short with -o %s: the graph draws the bindings; drop one", o.output.format)
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	if o.bindings || graphOut {
		return o.runBindings(c, cl)
	}
	rels, err := cl.List(c.Context, o.ListOptions)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if o.short {
		names := make([]string, 0, len(rels))
		for _, r := range rels {
			names = append(names, r.Name)
		}
		if ok, err := o.output.write(w, names); ok {
			return err
		}
		for _, n := range names {
			fmt.Fprintln(w, n)
		}
		return nil
	}
	if ok, err := o.output.write(w, listElements(rels, o.timeFormat)); ok {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !o.noHeaders {
		fmt.Fprintln(tw, "NAME\tNAMESPACE\tREVISION\tSTATUS\tBUNDLE\tAPP VERSION\tUPDATED")
	}
	for _, r := range rels {
		updated := age(r.Updated)
		if o.timeFormat != "" {
			updated = helmListTime(r.Updated, o.timeFormat)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, r.Namespace, r.Revision, r.Status, chartName(r), r.AppVersion, updated)
	}
	return tw.Flush()
}

// runBindings is bundle list --bindings (and -o dot|mermaid): the releases
// with the providers their requirements are bound to, and their consumers.
func (o *listOptions) runBindings(c *ucli.Context, cl *release.Client) error {
	apps, err := cl.Bindings(c.Context, o.AllNamespaces)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if ok, err := o.output.writeGraph(w, graph.FromBindings(apps)); ok {
		return err
	}
	if ok, err := o.output.write(w, apps); ok {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !o.noHeaders {
		fmt.Fprintln(tw, "RELEASE\tBOUND TO\tCONSUMERS")
	}
	for _, a := range apps {
		name := a.Name
		if col := a.Colours(); col != "" {
			name += " (" + col + ")"
		}
		var bound []string
		for _, b := range a.Bindings {
			s := b.Instance + " → " + b.Provider
			if b.Claim {
				s += " (claim)"
			}
			bound = append(bound, s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, orNone(strings.Join(bound, ", ")), orNone(strings.Join(a.Consumers, ", ")))
	}
	return tw.Flush()
}

// orNone is s, or "-" when empty.
func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readOptions are the flags of the commands that read a release: the
// cluster and -o.
type readOptions struct {
	kube   kubeOptions
	output outputOption
}

// client checks the arguments and -o and returns the client.
func (o readOptions) client(c *ucli.Context, nargs int, what string) (*release.Client, error) {
	if err := exactArgs(c, nargs, what); err != nil {
		return nil, err
	}
	if err := o.output.check(c); err != nil {
		return nil, err
	}
	return o.kube.client(c)
}

// statusOptions are bundle status's flags.
type statusOptions struct {
	readOptions
	revisionOption
	showDesc bool
}

func statusCommand() *ucli.Command {
	o := &statusOptions{}
	return command("status", helpText{}, o.run, o.kube.flags(), []ucli.Flag{
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
	st, err := cl.Status(c.Context, c.Args().Get(0), o.revision)
	if err != nil {
		return err
	}
	if ok, err := o.output.write(c.App.Writer, toStatusObject(st)); ok {
		return err
	}
	return printStatus(c.App.Writer, st, o.showDesc)
}

// historyOptions are bundle history's flags.
type historyOptions struct {
	readOptions
	max int
}

func historyCommand() *ucli.Command {
	o := &historyOptions{}
	return withAliases(command("history", helpText{}, o.run, o.kube.flags(), []ucli.Flag{
		intFlag(&o.max, "max", 256, "show at most this many of the latest revisions"),
		o.output.flag(),
	}), "hist")
}

func (o *historyOptions) run(c *ucli.Context) error {
	if o.max < 1 {
		return usagef(c, "--max %d: must be at least 1", o.max)
	}
	cl, err := o.client(c, 1, "NAME")
	if err != nil {
		return err
	}
	rels, err := cl.History(c.Context, c.Args().Get(0))
	if err != nil {
		return err
	}
	if len(rels) > o.max {
		rels = rels[len(rels)-o.max:]
	}
	if ok, err := o.output.write(c.App.Writer, historyElements(rels)); ok {
		return err
	}
	var rows [][]string
	for _, r := range rels {
		rows = append(rows, []string{strconv.Itoa(r.Revision), age(r.Updated), r.Status, chartName(r), r.AppVersion, r.Description})
	}
	return printTable(c.App.Writer, "REVISION\tUPDATED\tSTATUS\tBUNDLE\tAPP VERSION\tDESCRIPTION", rows)
}

func printStatus(w io.Writer, st *release.Status, showDesc bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\t%s\n", st.Name)
	fmt.Fprintf(tw, "NAMESPACE:\t%s\n", st.Namespace)
	fmt.Fprintf(tw, "REVISION:\t%d\n", st.Revision)
	fmt.Fprintf(tw, "STATUS:\t%s\n", st.Status)
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
			repo := d.Repository
			if d.Bound != "" {
				repo = "bound to release " + d.Bound
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Instance, d.Bundle, d.Version, repo)
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
