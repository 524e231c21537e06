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
	} else if err := printPlan(c.App.Writer, p, useColor(c)); err != nil {
		return err
	}
	if o.detailed && p.Changed() {
		return &exitCode{ExitChanges}
	}
	return nil
}

// diffElement is -o json's and -o yaml's plan.
type diffElement struct {
	*diff.Plan
	Changed bool `json:"changed"`
}

func diffCommand() *ucli.Command {
	return &ucli.Command{Name: "diff", Subcommands: []*ucli.Command{diffInstallCommand(), diffUpgradeCommand()}}
}

// diffInstallOptions are bundle diff install's flags: install's, and
// diff's own.
type diffInstallOptions struct {
	installOptions
	diff diffFlags
}

func diffInstallCommand() *ucli.Command {
	o := &diffInstallOptions{}
	return command("install", o.run, o.installOptions.flags(), o.diff.flags())
}

func (o *diffInstallOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	if err := o.diff.check(c); err != nil {
		return err
	}
	cl, src, err := o.prepare(c, name, ref)
	if err != nil {
		return err
	}
	in := o.options(name, src, release.WaitOptions{})
	p, err := cl.Diff(c.Context, release.DiffOptions{Install: &in, Options: diff.Options{Context: o.diff.context}})
	if err != nil {
		return asDiff(err)
	}
	return o.diff.show(c, p)
}

// diffUpgradeOptions are bundle diff upgrade's flags: upgrade's, and
// diff's own.
type diffUpgradeOptions struct {
	upgradeOptions
	diff diffFlags
}

func diffUpgradeCommand() *ucli.Command {
	o := &diffUpgradeOptions{}
	return command("upgrade", o.run, o.upgradeOptions.flags(), o.diff.flags())
}

func (o *diffUpgradeOptions) run(c *ucli.Context) error {
	if err := o.check(c); err != nil {
		return err
	}
	if err := o.diff.check(c); err != nil {
		return err
	}
	cl, src, err := o.prepare(c, "", c.Args().Get(1))
	if err != nil {
		return err
	}
	up := o.options(c.Args().Get(0), src, release.WaitOptions{})
	p, err := cl.Diff(c.Context, release.DiffOptions{Upgrade: &up, Options: diff.Options{Context: o.diff.context}})
	if err != nil {
		return asDiff(err)
	}
	return o.diff.show(c, p)
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

// useColor reports whether bundle diff colours its output: on a terminal,
// unless $NO_COLOR is set (https://no-color.org) or $TERM is dumb.
func useColor(c *ucli.Context) bool {
	env := getenv(c)
	if env("NO_COLOR") != "" || env("TERM") == "dumb" {
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
	counts := map[diff.Action]int{}
	for _, o := range p.Objects {
		counts[o.Action]++
	}
	fmt.Fprintf(w, "%s %d to create, %d to change, %d to delete, %d unchanged\n", pt.paint(colorBold, "Objects:"),
		counts[diff.Create], counts[diff.Change], counts[diff.Delete], counts[diff.Unchanged])
	for _, o := range p.Objects {
		var head string
		switch o.Action {
		case diff.Create:
			head = pt.paint(colorGreen, "+ create "+o.String())
		case diff.Delete:
			head = pt.paint(colorRed, "- delete "+o.String())
		case diff.Change:
			head = pt.paint(colorYellow, "~ change "+o.String())
		default:
			continue
		}
		fmt.Fprintf(w, "\n%s\n", head)
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
		return pt.paint(colorRed, fmt.Sprintf("- %s%s %s (dropped)", prefix, r.Before.Bundle, r.Before.Version))
	case diff.Change:
		what := r.After.Bundle + " " + r.Before.Version + " -> " + r.After.Version
		if r.Before.Bundle != r.After.Bundle {
			what = r.Before.Bundle + " " + r.Before.Version + " -> " + r.After.Bundle + " " + r.After.Version
		}
		return pt.paint(colorYellow, fmt.Sprintf("~ %s%s%s", prefix, what, from(r.After)))
	}
	return fmt.Sprintf("  %s%s %s (unchanged)", prefix, r.After.Bundle, r.After.Version)
}
