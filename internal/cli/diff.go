package cli

import (
	"errors"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

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
func (o *diffFlags) apply(c *ucli.Context, a *applyOptions, name, ref string, run func(*client, plan.Source, diff.Options) (*diff.Plan, error)) error {
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
	return withHelp(helpText{
		usage: "show what an install, upgrade, rollback or uninstall would change, or what drifted, object by object, changing nothing",
		args:  "install|upgrade|rollback|uninstall|drift ...",
		description: `The revision is made as install or upgrade makes it (the same flags, the same resolution,
values and rendering), every object is sent to the API server in a dry run as the operation sends
it (applied server-side as field manager helm), and what it would store is compared with the
live object. diff rollback does the same with an earlier revision; diff uninstall lists what
uninstall deletes and keeps; diff drift shows what was changed by hand since the release applied
it. Nothing is changed. Secrets' values are never shown: only their keys, added, removed, changed
or unchanged. See docs/diff.md.`,
		examples: `bundle diff install wiki stable/mediawiki -n team
bundle diff upgrade wiki stable/mediawiki --set wiki.name="Team Wiki"`,
	}, &ucli.Command{Name: "diff", Subcommands: []*ucli.Command{
		diffInstallCommand(), diffUpgradeCommand(), diffRollbackCommand(), diffUninstallCommand(), diffDriftCommand(),
	}})
}

// diffInstallOptions are bundle diff install's flags: install's, and
// diff's own.
type diffInstallOptions struct {
	installOptions
	diff diffFlags
}

func diffInstallCommand() *ucli.Command {
	o := &diffInstallOptions{}
	return command("install", helpText{
		usage: "show what bundle install would create, changing nothing",
		args:  "[NAME] BUNDLE",
		description: `Takes bundle install's flags (--wait, --timeout, --dry-run, --rollback-on-failure, --hide-notes and
--hide-secret are accepted and ignored). Prints the bundle and its requirements, then each object (+ create, ~ change, - delete)
with a unified diff of its YAML: what the API server would store, defaults included, without the
fields it maintains (managedFields, resourceVersion, uid, status, ...). Hooks are not shown.
Colour on a terminal only (not with $NO_COLOR). With --detailed-exitcode: 0 when nothing would
change, 2 when something would, 1 on an error (a wrong command line too). -o mermaid and -o dot
draw the bundle and its requirement instances as a graph, those created, changed or dropped
highlighted (every bundle diff command takes them).`,
		examples: `bundle diff install wiki stable/mediawiki -n team
bundle diff install ./shop -f prod.yaml -o json
bundle diff install wiki stable/mediawiki --detailed-exitcode --context 1
# the bundles as a graph, what changes highlighted (also -o dot)
bundle diff install wiki stable/mediawiki -o mermaid`,
	}, o.run, o.installOptions.flags(), o.diff.flags())
}

func (o *diffInstallOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	return o.diff.apply(c, &o.applyOptions, name, ref, func(cl *client, src plan.Source, do diff.Options) (*diff.Plan, error) {
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
	return command("upgrade", helpText{
		usage: "show what bundle upgrade would change, changing nothing",
		args:  "NAME BUNDLE",
		description: `Takes bundle upgrade's flags (--wait, --timeout, --dry-run, --rollback-on-failure, --hide-notes and
--hide-secret are accepted and ignored), and keeps the installed requirement versions as upgrade does (--update-deps moves them).
Prints the bundle and requirement versions before -> after, then each object the upgrade creates,
changes (only the fields that change: defaults the API server fills in do not show) or deletes.
Secrets' values are never shown, only their keys. With --detailed-exitcode: 0 when nothing would
change, 2 when something would, 1 on an error (a wrong command line too).`,
		examples: `bundle diff upgrade wiki stable/mediawiki --set wiki.name="Team Wiki"
bundle diff upgrade wiki stable/mediawiki --reuse-values --update-deps
# in CI: fail the step when the cluster is not what the bundle says
bundle diff upgrade wiki stable/mediawiki -f prod.yaml --detailed-exitcode`,
	}, o.run, o.upgradeOptions.flags(), o.diff.flags())
}

func (o *diffUpgradeOptions) run(c *ucli.Context) error {
	if err := o.check(c); err != nil {
		return err
	}
	blueGreen, err := o.blueGreenStrategy(c)
	if err != nil {
		return err
	}
	return o.diff.apply(c, &o.applyOptions, "", c.Args().Get(1), func(cl *client, src plan.Source, do diff.Options) (*diff.Plan, error) {
		up := o.options(c.Args().Get(0), src, release.WaitOptions{})
		if !blueGreen {
			return cl.Diff(c.Context, release.DiffOptions{Upgrade: &up, Options: do})
		}
		p, next, err := cl.apps.Diff(c.Context, up, do)
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
func (o *releaseDiff) run(c *ucli.Context, plan func(*client, diff.Options) (*diff.Plan, error)) error {
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
	return command("rollback", helpText{
		usage: "show what bundle rollback would change, changing nothing",
		args:  "NAME [REVISION]",
		description: `Runs the rollback as a dry run (the target revision validated, bound releases' constraints
checked), then sends every object of the target revision to the API server in a dry run as the
rollback applies it, and compares what it would store with the live object. Without REVISION,
the previous deployed revision. Secrets' values are never shown, only their keys.`,
		examples: `bundle diff rollback wiki
bundle diff rollback wiki 2 --detailed-exitcode`,
	}, func(c *ucli.Context) error {
		name, rev, err := rollbackArgs(c)
		if err != nil {
			return err
		}
		return o.run(c, func(cl *client, do diff.Options) (*diff.Plan, error) {
			return cl.apps.DiffRollback(c.Context, release.RollbackOptions{ReleaseName: name, Revision: rev}, do)
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
	return command("uninstall", helpText{
		usage: "show what bundle uninstall would delete and keep, changing nothing",
		args:  "NAME",
		description: `Lists every object of the release that uninstall deletes (not those marked
helm.sh/resource-policy: keep), and the release's persistent volume claims and the Secrets its data
was initialised with (labelled bundle.sh/kept-with-data): kept with the data, or deleted with
--delete-data. Names the releases this one is bound to and those bound to it
(uninstall refuses while there are any, unless --force).`,
		examples: `bundle diff uninstall wiki
bundle diff uninstall wiki --delete-data -o json`,
	}, o.run, o.kube.flags(), []ucli.Flag{
		boolFlag(&o.deleteData, "delete-data", "show the release's persistent volume claims, and the Secrets its data was initialised with, as deleted (kept otherwise)"),
		boolFlag(&o.force, "force", "as bundle uninstall --force: do not warn that releases bound to this one stop uninstall"),
	}, o.diff.flags())
}

func (o *diffUninstallOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "NAME"); err != nil {
		return err
	}
	opts := release.UninstallOptions{ReleaseName: c.Args().Get(0), DeleteData: o.deleteData, Force: o.force}
	return o.releaseDiff.run(c, func(cl *client, do diff.Options) (*diff.Plan, error) {
		p, err := cl.apps.DiffUninstall(c.Context, opts, do)
		if err == nil && len(p.Consumers) > 0 && !o.force {
			fmt.Fprintf(c.App.ErrWriter, "warning: bundle uninstall %s refuses while releases are bound to it (%s); --force uninstalls it anyway\n", opts.ReleaseName, strings.Join(p.Consumers, ", "))
		}
		return p, err
	})
}

func diffDriftCommand() *ucli.Command {
	o := &releaseDiff{}
	return command("drift", helpText{
		usage: "show the objects of a release that are no longer what it applied, changing nothing",
		args:  "RELEASE",
		description: `Compares every object of the release's current revision with what that revision applied:
the fields the release sets (as field manager helm) changed by hand show as ~ change (before:
live, after: as the release set them), objects deleted by hand as + create. Fields other managers
keep are not drift: status, replicas an autoscaler scales, defaults and annotations controllers
add. bundle upgrade with the same inputs takes the drift back. bundle status counts the drifted
objects. With --detailed-exitcode: 0 when nothing drifted, 2 when something did.`,
		examples: `bundle diff drift wiki
# in CI or cron: alert when someone edited the release by hand
bundle diff drift wiki --detailed-exitcode -o json`,
	}, func(c *ucli.Context) error {
		if err := exactArgs(c, 1, "RELEASE"); err != nil {
			return err
		}
		return o.run(c, func(cl *client, do diff.Options) (*diff.Plan, error) {
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
