package cli

import (
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

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
	return withAliases(command("list", helpText{
		usage: "list releases (bundle and plain Helm ones)",
		description: `By default only deployed and failed releases are listed, as helm 3's list does (helm 4
lists every state: give --all); --all and the state flags (which combine) change that. Releases are sorted
by name; -d sorts by the time of the last deployment, oldest first.

--bindings lists, for every release, the requirements bound to other
releases (INSTANCE → NAMESPACE/PROVIDER, "(claim)" when the app has a claim
of its own on it) and the releases bound to it (CONSUMERS), read from the
release records alone; a blue/green app is one row with its live colour and
spare. -o mermaid or -o dot draws the same as a graph: releases as nodes,
bindings as edges labelled by instance. -A reads every namespace; without
it, CONSUMERS still names those of other namespaces, as bundle status does.
The state flags, -f, -l, the sorting and the paging do not apply to it: it
shows every release not uninstalled, by namespace and name.`,
		examples: `bundle list
bundle list --bindings -A
bundle list -o mermaid -A
bundle list -A --all
bundle list --failed --pending -o json
bundle list -f '^wiki' -d -r -m 10
bundle list -q`,
	}, o.run, o.kube.flags(), []ucli.Flag{
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
func (o *listOptions) runBindings(c *ucli.Context, cl *client) error {
	apps, err := cl.apps.Bindings(c.Context, o.AllNamespaces)
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
