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

// rollbackOptions are bundle rollback's flags.
type rollbackOptions struct {
	kube kubeOptions
	wait waitOptions
	release.RollbackOptions
}

func rollbackCommand() *ucli.Command {
	o := &rollbackOptions{}
	return command("rollback", helpText{}, o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
		boolFlag(&o.DryRun, "dry-run", "simulate"),
		o.wait.quietFlag(),
	})
}

func (o *rollbackOptions) run(c *ucli.Context) error {
	opts := o.RollbackOptions
	var err error
	if opts.ReleaseName, opts.Revision, err = rollbackArgs(c); err != nil {
		return err
	}
	if err := o.wait.check(c); err != nil {
		return err
	}
	opts.WaitOptions = o.wait.options(c)
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	if opts.Revision == 0 && cl.IsBlueGreen(opts.ReleaseName) {
		if opts.DryRun {
			spare := "its spare"
			if st, err := cl.BlueGreenState(c.Context, opts.ReleaseName); err == nil && st.Spare != "" {
				spare = st.SpareRelease() + " (bundle status " + st.SpareRelease() + " shows it)"
			}
			return usagef(c, "--dry-run: %q is a blue-green app, whose rollback only switches its stable Services to %s", opts.ReleaseName, spare)
		}
		st, err := cl.BlueGreenRollback(c.Context, opts.ReleaseName)
		if err != nil {
			return err
		}
		printReconciled(c.App.ErrWriter, st)
		printBlueGreen(c.App.Writer, cl.Namespace(), st, "switched back to")
		return nil
	}
	rel, err := cl.Rollback(c.Context, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Rolled back %q: now revision %d (%s)\n", rel.Name, rel.Revision, rel.Status)
	return nil
}

// rollbackArgs reads rollback's NAME [REVISION] (0: the previous one).
func rollbackArgs(c *ucli.Context) (name string, rev int, err error) {
	if c.NArg() < 1 || c.NArg() > 2 {
		return "", 0, usagef(c, "expected NAME [REVISION], got %d arguments", c.NArg())
	}
	if c.NArg() == 2 {
		if rev, err = strconv.Atoi(c.Args().Get(1)); err != nil || rev < 1 {
			return "", 0, usagef(c, "REVISION %q: give a revision number from bundle history", c.Args().Get(1))
		}
	}
	return c.Args().Get(0), rev, nil
}

// pruneOptions are bundle prune's flags.
type pruneOptions struct {
	kube kubeOptions
}

func pruneCommand() *ucli.Command {
	o := &pruneOptions{}
	return command("prune", helpText{}, o.run, o.kube.flags())
}

func (o *pruneOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "NAME"); err != nil {
		return err
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	name := c.Args().Get(0)
	st, un, err := cl.BlueGreenPrune(c.Context, name)
	if err != nil {
		return err
	}
	printReconciled(c.App.ErrWriter, st)
	if un == nil {
		fmt.Fprintf(c.App.Writer, "Blue-green app %q has no spare: nothing pruned\n", name)
		return nil
	}
	fmt.Fprintf(c.App.Writer, "Pruned the spare %s of blue-green app %q; live: %s\n", un.Name, name, st.LiveRelease())
	printUninstalled(c.App.Writer, un)
	return nil
}

// uninstallOptions are bundle uninstall's flags.
type uninstallOptions struct {
	kube kubeOptions
	wait waitOptions
	release.UninstallOptions
}

func uninstallCommand() *ucli.Command {
	o := &uninstallOptions{wait: waitOptions{silent: true}} // Helm waits for the deletion
	return command("uninstall", helpText{}, o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
		boolFlag(&o.KeepHistory, "keep-history", "keep the release records"),
		boolFlag(&o.DeleteData, "delete-data", "delete the release's persistent volume claims too (kept otherwise), then the Secrets its data was initialised with (kept with it otherwise), and the databases of its bindings' claims (see docs/bindings.md)"),
		noHooksFlag(&o.NoHooks, "do not run the release's hooks (a binding claim's, which drops its user, among them)"),
		boolFlag(&o.DryRun, "dry-run", "simulate: say what would be deleted and kept"),
		boolFlag(&o.Force, "force", "uninstall even if other releases are bound to this one (they lose what they require)"),
	})
}

// run uninstalls each release named, in order, with the same flags, as
// helm does: the first that fails ends the command, the releases before
// it uninstalled (and said so), those after it left as they were.
func (o *uninstallOptions) run(c *ucli.Context) error {
	if c.NArg() < 1 {
		return usagef(c, "expected NAME [NAME...], got 0 arguments")
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	for _, name := range c.Args().Slice() {
		opts := o.UninstallOptions
		opts.ReleaseName, opts.WaitOptions = name, o.wait.options(c)
		res, err := cl.Uninstall(c.Context, opts)
		if err != nil {
			return err
		}
		printUninstalled(c.App.Writer, res)
	}
	return nil
}

// printUninstalled says what uninstall did with the release, its claims
// and the Secrets its data was initialised with: the kept ones with the
// command that deletes them, one line per namespace (the claims first: a
// Secret goes only once they are gone).
func printUninstalled(w io.Writer, res *release.Uninstalled) {
	for _, col := range res.Colors {
		printUninstalled(w, col)
	}
	verb, keep, del := "Uninstalled", "Kept", "Deleted"
	if res.DryRun {
		verb, keep, del = "Would uninstall", "Would keep", "Would delete"
	}
	fmt.Fprintf(w, "%s %q from namespace %q\n", verb, res.Name, res.Namespace)
	if len(res.Deleted) > 0 {
		fmt.Fprintf(w, "%s %s with the data: %s\n", del, plural(len(res.Deleted), "claim"), claimNames(res.Deleted, res.Namespace))
	}
	if len(res.DeletedSecrets) > 0 {
		fmt.Fprintf(w, "%s %s the data was initialised with: %s\n", del, plural(len(res.DeletedSecrets), "Secret"), secretNames(res.DeletedSecrets, res.Namespace))
	}
	if len(res.Kept)+len(res.KeptSecrets) == 0 {
		return
	}
	if res.DryRun {
		if len(res.Kept) > 0 {
			fmt.Fprintf(w, "%s %s with the data (--delete-data deletes %s): %s\n", keep, plural(len(res.Kept), "claim"), them(len(res.Kept)), claimNames(res.Kept, res.Namespace))
		}
		if len(res.KeptSecrets) > 0 {
			fmt.Fprintf(w, "%s %s the data was initialised with (--delete-data deletes %s): %s\n", keep, plural(len(res.KeptSecrets), "Secret"), them(len(res.KeptSecrets)), secretNames(res.KeptSecrets, res.Namespace))
		}
		return
	}
	if len(res.Kept) > 0 {
		fmt.Fprintf(w, "%s %s with the data: %s\n", keep, plural(len(res.Kept), "claim"), claimNames(res.Kept, res.Namespace))
	}
	if len(res.KeptSecrets) > 0 {
		fmt.Fprintf(w, "%s %s the data was initialised with: %s\n", keep, plural(len(res.KeptSecrets), "Secret"), secretNames(res.KeptSecrets, res.Namespace))
	}
	var namespaces []string
	pvcs, secrets := map[string][]string{}, map[string][]string{}
	add := func(into map[string][]string, ns, name string) {
		if pvcs[ns] == nil && secrets[ns] == nil {
			namespaces = append(namespaces, ns)
		}
		into[ns] = append(into[ns], name)
	}
	for _, cl := range res.Kept {
		add(pvcs, cl.Namespace, cl.Name)
	}
	for _, s := range res.KeptSecrets {
		add(secrets, s.Namespace, s.Name)
	}
	for _, ns := range namespaces {
		var cmds []string
		if len(pvcs[ns]) > 0 {
			cmds = append(cmds, "kubectl delete pvc -n "+ns+" "+strings.Join(pvcs[ns], " "))
		}
		if len(secrets[ns]) > 0 {
			cmds = append(cmds, "kubectl delete secret -n "+ns+" "+strings.Join(secrets[ns], " "))
		}
		fmt.Fprintf(w, "Delete %s with: %s\n", them(len(res.Kept)+len(res.KeptSecrets)), strings.Join(cmds, " && "))
	}
}

// them is "it" for one, "them" for more.
func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// plural is "1 claim", "2 claims".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// claimNames lists claims by name, with NAMESPACE/ for those outside ns.
func claimNames(cs []release.Claim, ns string) string {
	names := make([]string, len(cs))
	for i, cl := range cs {
		names[i] = cl.Name
		if cl.Namespace != ns {
			names[i] = cl.String()
		}
	}
	return strings.Join(names, ", ")
}

// secretNames lists Secrets by name, with NAMESPACE/ for those outside ns.
func secretNames(ss []release.DataSecret, ns string) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
		if s.Namespace != ns {
			names[i] = s.String()
		}
	}
	return strings.Join(names, ", ")
}

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
