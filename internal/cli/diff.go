package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// ExitChanges is bundle diff's exit code with --detailed-exitcode when the
// operation would change something (0: nothing; 1: an error).
const ExitChanges = 2

// exitCode ends a command with code and no message.
type exitCode struct{ code int }

func (e *exitCode) Error() string { return fmt.Sprintf("exit %d", e.code) }

// diffFlags are what bundle diff adds to install's and upgrade's flags.
type diffFlags struct {
	context  int
	detailed bool
	output   outputOption
}

func (o *diffFlags) flags() []ucli.Flag {
	o.output.graphs = true
	return []ucli.Flag{
		intFlag(&o.context, "context", diff.DefaultContext, "lines of context around each change"),
		boolFlag(&o.detailed, "detailed-exitcode", "exit 0 when nothing would change, 2 when something would, 1 on an error"),
		o.output.flag(),
	}
}

func (o *diffFlags) check(c *ucli.Context) error {
	if o.context < 0 {
		return usagef(c, "--context %d: give a number of lines, 0 or more", o.context)
	}
	return o.output.check(c)
}

// show prints the plan and, with --detailed-exitcode, ends with
// ExitChanges when it changes anything.
func (o *diffFlags) show(c *ucli.Context, p *diff.Plan) error {
	if ok, err := o.output.write(c.App.Writer, diffElement{p, p.Changed()}); ok {
		if err != nil {
			return err
		}
	} else if ok, err := o.output.writeGraph(c.App.Writer, graph.FromPlan(p)); ok {
		if err != nil {
			return err
		}
	} else if err := printPlan(c.App.Writer, p, useColor(c)); err != nil {
		return err
	}
	if o.detailed && p.Changed() {
		return &exitCode{ExitChanges}
	}
	return nil
}

// apply is the diff of install or upgrade: it checks diff's flags, binds
// the client and the source as they do (a's flags, name and ref), and
// shows the plan run makes of that source.
func (o *diffFlags) apply(c *ucli.Context, a *applyOptions, name, ref string, run func(*release.Client, plan.Source, diff.Options) (*diff.Plan, error)) error {
	if err := o.check(c); err != nil {
		return err
	}
	cl, src, err := a.prepare(c, name, ref)
	if err != nil {
		return err
	}
	p, err := run(cl, src, diff.Options{Context: o.context})
	if err != nil {
		return asDiff(err)
	}
	return o.show(c, p)
}

// diffElement is -o json's and -o yaml's plan.
type diffElement struct {
	*diff.Plan
	Changed bool `json:"changed"`
}

func diffCommand() *ucli.Command {
	return &ucli.Command{Name: "diff", Subcommands: []*ucli.Command{diffInstallCommand(), diffUpgradeCommand(), diffRollbackCommand(), diffUninstallCommand(), diffDriftCommand()}}
}

// diffInstallOptions are bundle diff install's flags: install's, and
// diff's own.
type diffInstallOptions struct {
	installOptions
	diff diffFlags
}

func diffInstallCommand() *ucli.Command {
	o := &diffInstallOptions{}
	return command("install", helpText{}, o.run, o.installOptions.flags(), o.diff.flags())
}

func (o *diffInstallOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	return o.diff.apply(c, &o.applyOptions, name, ref, func(cl *release.Client, src plan.Source, do diff.Options) (*diff.Plan, error) {
		in := o.options(name, src, release.WaitOptions{})
		return cl.Diff(c.Context, release.DiffOptions{Install: &in, Options: do})
	})
}

// diffUpgradeOptions are bundle diff upgrade's flags: upgrade's, and
// diff's own.
type diffUpgradeOptions struct {
	upgradeOptions
	diff diffFlags
}

func diffUpgradeCommand() *ucli.Command {
	o := &diffUpgradeOptions{}
	return command("upgrade", helpText{}, o.run, o.upgradeOptions.flags(), o.diff.flags())
}

func (o *diffUpgradeOptions) run(c *ucli.Context) error {
	if err := o.check(c); err != nil {
		return err
	}
	blueGreen, err := o.blueGreenStrategy(c)
	if err != nil {
		return err
	}
	return o.diff.apply(c, &o.applyOptions, "", c.Args().Get(1), func(cl *release.Client, src plan.Source, do diff.Options) (*diff.Plan, error) {
		up := o.options(c.Args().Get(0), src, release.WaitOptions{})
		if !blueGreen {
			return cl.Diff(c.Context, release.DiffOptions{Upgrade: &up, Options: do})
		}
		p, next, err := cl.BlueGreenDiff(c.Context, up, do)
		if err == nil && o.diff.output.format == outTable {
			printBlueGreenPlan(c.App.Writer, cl.Namespace(), next)
		}
		return p, err
	})
}

// releaseDiff are the flags of the diffs of an installed release
// (rollback, uninstall, drift): the cluster's, and diff's own.
type releaseDiff struct {
	kube kubeOptions
	diff diffFlags
}

// run checks diff's flags, computes the plan with the release's client
// and diff's options, and shows it.
func (o *releaseDiff) run(c *ucli.Context, plan func(*release.Client, diff.Options) (*diff.Plan, error)) error {
	if err := o.diff.check(c); err != nil {
		return err
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	p, err := plan(cl, diff.Options{Context: o.diff.context})
	if err != nil {
		return asDiff(err)
	}
	return o.diff.show(c, p)
}

func diffRollbackCommand() *ucli.Command {
	o := &releaseDiff{}
	return command("rollback", helpText{}, func(c *ucli.Context) error {
		name, rev, err := rollbackArgs(c)
		if err != nil {
			return err
		}
		return o.run(c, func(cl *release.Client, do diff.Options) (*diff.Plan, error) {
			return cl.DiffRollback(c.Context, release.RollbackOptions{ReleaseName: name, Revision: rev}, do)
		})
	}, o.kube.flags(), o.diff.flags())
}

// diffUninstallOptions are bundle diff uninstall's flags: uninstall's
// that change what it deletes, and diff's own.
type diffUninstallOptions struct {
	releaseDiff
	deleteData bool
	force      bool
}

func diffUninstallCommand() *ucli.Command {
	o := &diffUninstallOptions{}
	return command("uninstall", helpText{}, o.run, o.kube.flags(), []ucli.Flag{
		boolFlag(&o.deleteData, "delete-data", "show the release's persistent volume claims, and the Secrets its data was initialised with, as deleted (kept otherwise)"),
		boolFlag(&o.force, "force", "as bundle uninstall --force: do not warn that releases bound to this one stop uninstall"),
	}, o.diff.flags())
}

func (o *diffUninstallOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "NAME"); err != nil {
		return err
	}
	opts := release.UninstallOptions{ReleaseName: c.Args().Get(0), DeleteData: o.deleteData, Force: o.force}
	return o.releaseDiff.run(c, func(cl *release.Client, do diff.Options) (*diff.Plan, error) {
		p, err := cl.DiffUninstall(c.Context, opts, do)
		if err == nil && len(p.Consumers) > 0 && !o.force {
			fmt.Fprintf(c.App.ErrWriter, "warning: bundle uninstall %s refuses while releases are bound to it (%s); --force uninstalls it anyway\n", opts.ReleaseName, strings.Join(p.Consumers, ", "))
		}
		return p, err
	})
}

func diffDriftCommand() *ucli.Command {
	o := &releaseDiff{}
	return command("drift", helpText{}, func(c *ucli.Context) error {
		if err := exactArgs(c, 1, "RELEASE"); err != nil {
			return err
		}
		return o.run(c, func(cl *release.Client, do diff.Options) (*diff.Plan, error) {
			return cl.Drift(c.Context, c.Args().Get(0), do)
		})
	}, o.kube.flags(), o.diff.flags())
}

// asDiff words the fixes of err that run install or upgrade as their
// diffs: "release exists: run bundle diff upgrade ...".
func asDiff(err error) error {
	for e := err; e != nil; {
		var fe *errdefs.Error
		if !errors.As(e, &fe) {
			break
		}
		fixes := make([]errdefs.Fix, len(fe.Fixes))
		for i, f := range fe.Fixes {
			fixes[i] = f
			if len(f.Run) > 0 && (f.Run[0] == "install" || f.Run[0] == "upgrade") {
				fixes[i].Run = append([]string{"diff"}, f.Run...)
			}
		}
		fe.Fixes = fixes
		e = fe.Err
	}
	return err
}

// useColor reports whether bundle diff colours its output: never when
// $NO_COLOR is set (https://no-color.org); as $HELM_COLOR says when it is
// never or always, as in helm 4; else (auto) on a terminal, unless $TERM
// is dumb.
func useColor(c *ucli.Context) bool {
	env := getenv(c)
	if env("NO_COLOR") != "" {
		return false
	}
	switch strings.ToLower(env(helmColorEnv)) {
	case "never":
		return false
	case "always":
		return true
	}
	if env("TERM") == "dumb" {
		return false
	}
	f, ok := c.App.Writer.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ANSI colours of bundle diff's output.
const (
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
	colorCyan   = "\x1b[36m"
	colorBold   = "\x1b[1m"
	colorReset  = "\x1b[0m"
)

// painter colours text when on.
type painter bool

func (on painter) paint(color, s string) string {
	if !on || s == "" {
		return s
	}
	return color + s + colorReset
}

// printPlan prints what the operation would do: the bundle and its
// requirements, a count of objects, then each object it creates, changes
// or deletes with its diff (a Secret's keys with their states, never
// their values).
func printPlan(w io.Writer, p *diff.Plan, color bool) error {
	pt := painter(color)
	fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bundle:"), resolutionLine(pt, p.Bundle))
	for _, r := range p.Requirements {
		fmt.Fprintf(w, "  %s\n", resolutionLine(pt, r))
	}
	printWiring(w, pt, p.Wiring)
	counts := map[diff.Action]int{}
	for _, o := range p.Objects {
		counts[o.Action]++
	}
	fmt.Fprintf(w, "%s %d to create, %d to change, %d to delete, %d unchanged\n", pt.paint(colorBold, "Objects:"),
		counts[diff.Create], counts[diff.Change], counts[diff.Delete], counts[diff.Unchanged])
	for _, cl := range p.Claims {
		what := "claim " + cl.Namespace + "/" + cl.Name
		if cl.StatefulSet != "" {
			what += " (of StatefulSet " + cl.StatefulSet + ")"
		}
		if cl.Action == diff.Delete {
			fmt.Fprintln(w, pt.paint(colorRed, "- delete "+what+" with its data"))
		} else {
			fmt.Fprintf(w, "  keep %s with its data (--delete-data deletes it)\n", what)
		}
	}
	for _, ds := range p.DataSecrets {
		what := "Secret " + ds.Namespace + "/" + ds.Name + " the data was initialised with"
		if ds.Action == diff.Delete {
			fmt.Fprintln(w, pt.paint(colorRed, "- delete "+what))
		} else {
			fmt.Fprintf(w, "  keep %s (--delete-data deletes it)\n", what)
		}
	}
	for _, e := range p.Elsewhere {
		label, rest, _ := strings.Cut(elsewhereLine(e), ": ")
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, label+":"), rest)
	}
	for _, pr := range p.Providers {
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bound to:"), pr)
	}
	for _, co := range p.Consumers {
		fmt.Fprintf(w, "%s %s\n", pt.paint(colorBold, "Bound by:"), co)
	}
	for _, o := range p.Objects {
		if o.Action != diff.Create && o.Action != diff.Delete && o.Action != diff.Change {
			continue
		}
		sign, color := mark(o.Action)
		fmt.Fprintf(w, "\n%s\n", pt.paint(color, sign+" "+string(o.Action)+" "+o.String()))
		for _, k := range o.SecretKeys {
			line := fmt.Sprintf("  data.%s: %s (value hidden)", k.Key, k.State)
			switch k.State {
			case diff.KeyAdded:
				line = pt.paint(colorGreen, line)
			case diff.KeyRemoved:
				line = pt.paint(colorRed, line)
			case diff.KeyChanged:
				line = pt.paint(colorYellow, line)
			}
			fmt.Fprintln(w, line)
		}
		for _, l := range strings.SplitAfter(o.Diff, "\n") {
			if l == "" {
				continue
			}
			text := strings.TrimSuffix(l, "\n")
			switch {
			case strings.HasPrefix(l, "@@"):
				text = pt.paint(colorCyan, text)
			case strings.HasPrefix(l, "+"):
				text = pt.paint(colorGreen, text)
			case strings.HasPrefix(l, "-"):
				text = pt.paint(colorRed, text)
			}
			fmt.Fprintln(w, text)
		}
	}
	return nil
}

// elsewhereLine says what a release holds outside its namespace, in one
// other: "Also in namespace data: ConfigMap a, Job.batch b; hooks:
// Job.batch c", or "Also cluster-wide: ...".
func elsewhereLine(e diff.Elsewhere) string {
	where := "Also cluster-wide"
	if e.Namespace != "" {
		where = "Also in namespace " + e.Namespace
	}
	line := where + ": " + strings.Join(e.Objects, ", ")
	if len(e.Hooks) > 0 {
		if len(e.Objects) > 0 {
			line += "; "
		}
		line += "hooks: " + strings.Join(e.Hooks, ", ")
	}
	return line
}

// printWiring says which requirement outputs change and who uses them:
// "~ database.host (used by the root): a -> b".
func printWiring(w io.Writer, pt painter, wires []diff.Wire) {
	if len(wires) == 0 {
		return
	}
	fmt.Fprintln(w, pt.paint(colorBold, "Wiring:"))
	for _, wr := range wires {
		sign, color := mark(wr.Action)
		var line string
		switch {
		case wr.Hidden:
			line = fmt.Sprintf("%s %s: %s (value hidden)", sign, wr, wr.Action)
		case wr.Action == diff.Create:
			line = fmt.Sprintf("+ %s: %q", wr, wr.After)
		case wr.Action == diff.Delete:
			line = fmt.Sprintf("- %s: %q", wr, wr.Before)
		default:
			line = fmt.Sprintf("~ %s: %q -> %q", wr, wr.Before, wr.After)
		}
		fmt.Fprintf(w, "  %s\n", pt.paint(color, line))
	}
}

// mark is how bundle diff marks what an action does to an object or a
// wire: + in green to create, - in red to delete, ~ in yellow to change.
func mark(a diff.Action) (sign, color string) {
	switch a {
	case diff.Create:
		return "+", colorGreen
	case diff.Delete:
		return "-", colorRed
	}
	return "~", colorYellow
}

// resolutionLine is "database: mariadb 1.0.1 -> 1.0.2 (from stable)" and
// the like; the root bundle has no instance.
func resolutionLine(pt painter, r diff.Resolution) string {
	prefix := ""
	if r.Instance != "" {
		prefix = r.Instance + ": "
	}
	from := func(x *plan.Resolved) string {
		if x.Bound != "" {
			return " bound to release " + x.Bound
		}
		if x.Repository == "" {
			return ""
		}
		return " from " + x.Repository
	}
	switch r.Action {
	case diff.Create:
		return pt.paint(colorGreen, fmt.Sprintf("+ %s%s %s%s (new)", prefix, r.After.Bundle, r.After.Version, from(r.After)))
	case diff.Delete:
		if r.Before.Bound != "" {
			return pt.paint(colorRed, fmt.Sprintf("- %s%s %s (binding dropped: release %s stays)", prefix, r.Before.Bundle, r.Before.Version, r.Before.Bound))
		}
		return pt.paint(colorRed, fmt.Sprintf("- %s%s %s (dropped)", prefix, r.Before.Bundle, r.Before.Version))
	case diff.Change:
		what := r.After.Bundle + " " + r.Before.Version + " -> " + r.After.Version
		if r.Before.Bundle != r.After.Bundle {
			what = r.Before.Bundle + " " + r.Before.Version + " -> " + r.After.Bundle + " " + r.After.Version
		}
		why := ""
		if r.Why != "" {
			why = " (" + strings.Replace(r.Why, "UpdateDeps", "--update-deps", 1) + ")"
		}
		return pt.paint(colorYellow, fmt.Sprintf("~ %s%s%s%s", prefix, what, from(r.After), why))
	}
	return fmt.Sprintf("  %s%s %s (unchanged)", prefix, r.After.Bundle, r.After.Version)
}
