package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/bluegreen"
	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// upgradeOptions are bundle upgrade's flags.
type upgradeOptions struct {
	applyOptions
	release.UpgradeOptions
	// bundle upgrade's own (not bundle diff upgrade's).
	showDiff, confirm, yes bool
	diffContext            int
	strategy               string
}

func upgradeCommand() *ucli.Command {
	o := &upgradeOptions{}
	return command("upgrade", helpText{
		usage: "upgrade a release to a new bundle version or new values",
		args:  "NAME BUNDLE",
		description: `Values, as with helm: without --reuse-values, --reset-values or --reset-then-reuse-values, the current
revision's values are kept when no -f or --set is given, and dropped otherwise. The wiring of
requirements (requires:) is always computed anew. CRDs in crds/ are not upgraded.
Bindings (--bind) the current revision recorded are kept; --unbind INSTANCE installs that requirement
in the release again: a new, empty one, nothing of the provider's data copied; it says so and asks
first, and is refused when stdin is not a terminal unless --yes answers for it. Upgrading a release others are bound to is refused when the new version is
outside one of their constraints.
--diff prints what the upgrade will change first (as bundle diff upgrade); --confirm also asks before
going on, and is refused when stdin is not a terminal unless --yes answers for it.
--strategy blue-green installs the new revision as NAME-blue or NAME-green beside the live one, waits
until it is ready, switches the stable Services (release NAME) to it and keeps the old colour as a hot
spare (bundle rollback NAME switches back, bundle prune NAME removes it). Every requirement must be
bound (--bind): see docs/blue-green.md. With it, --dry-run, --diff and --confirm show the new colour
(its manifests, or its changes) and the switch, changing nothing first.
-o json|yaml prints the new revision as bundle get all -o json|yaml prints it instead of its summary
(not with --diff, --confirm or --strategy blue-green).`,
		examples: `bundle upgrade wiki stable/mediawiki --set wiki.name="Team Wiki" --wait
# blue/green: the new revision beside the live one, switched to once ready
bundle upgrade shop ./shop --strategy blue-green --bind database=shop-db
# see the changes and say yes or no before anything is changed
bundle upgrade wiki stable/mediawiki -f prod.yaml --confirm
# install when missing, keep the values set before
bundle upgrade --install --reuse-values wiki stable/mediawiki`,
	}, o.run, o.flags(), []ucli.Flag{
		boolFlag(&o.showDiff, "diff", "print what the upgrade will change (as bundle diff upgrade) before changing it"),
		boolFlag(&o.confirm, "confirm", "with the changes printed (implies --diff), ask before going on; refused when stdin is not a terminal, unless --yes"),
		boolFlag(&o.yes, "yes", "with --confirm or --unbind, go on without asking", "y"),
		intFlag(&o.diffContext, "diff-context", diff.DefaultContext, "with --diff, lines of context around each change"),
		o.output.flag(),
	})
}

// flags are upgrade's flags (bundle diff upgrade's too).
func (o *upgradeOptions) flags() []ucli.Flag {
	return flags(o.applyOptions.flags("upgrade", &o.Force), []ucli.Flag{
		boolFlag(&o.Atomic, "rollback-on-failure", "roll back if the upgrade fails (implies --wait); --atomic is its former name, as in helm 4", "atomic"),
		boolFlag(&o.ReuseValues, "reuse-values", "apply the given values over the current revision's values and defaults (ignored with --reset-values)"),
		boolFlag(&o.ResetValues, "reset-values", "start from the bundle's defaults only"),
		boolFlag(&o.ResetThenReuseValues, "reset-then-reuse-values", "apply the given values over the current revision's, over the new version's defaults (ignored with --reset-values or --reuse-values)"),
		boolFlag(&o.CleanupOnFail, "cleanup-on-fail", "delete the resources this upgrade created if it fails"),
		intFlag(&o.MaxHistory, "history-max", 10, "keep at most this many revisions (0: all; when not given, $HELM_MAX_HISTORY if set)"),
		boolFlag(&o.Install, "install", "install the release if it does not exist", "i"),
		boolFlag(&o.CreateNamespace, "create-namespace", "with --install, create the namespace if needed"),
		boolFlag(&o.helm.SkipCRDs, "skip-crds", "with --install, do not create the CRDs in crds/"),
		boolFlag(&o.UpdateDeps, "update-deps", "move requirements to their newest fitting versions (default: keep the installed ones while they fit)"),
		arrayFlag(&o.Unbind, "unbind", "install this bound requirement in the release again instead of using the release it is bound to (repeatable)"),
		stringFlag(&o.strategy, "strategy", "", "blue-green: bring the new revision up as NAME-blue or NAME-green beside the live one, switch the stable Services to it once ready and keep the old one as a hot spare (see docs/blue-green.md)"),
	})
}

// blueGreenStrategy reports whether --strategy asks for a blue-green
// upgrade, refusing what it cannot go with.
func (o *upgradeOptions) blueGreenStrategy(c *ucli.Context) (bool, error) {
	switch o.strategy {
	case "", "rolling":
		return false, nil
	case bluegreen.Strategy:
	default:
		return false, usagef(c, "--strategy %q: give blue-green (or leave it out for a rolling upgrade in place)", o.strategy)
	}
	if o.Atomic {
		return false, usagef(c, "--rollback-on-failure (--atomic) adds nothing to --strategy blue-green (a colour that fails is never switched to): leave it out")
	}
	return true, nil
}

func (o *upgradeOptions) run(c *ucli.Context) error {
	if err := o.check(c); err != nil {
		return err
	}
	if o.diffContext < 0 {
		return usagef(c, "--diff-context %d: give a number of lines, 0 or more", o.diffContext)
	}
	if o.yes && !o.confirm && len(o.Unbind) == 0 {
		return usagef(c, "--yes answers --confirm's (or --unbind's) question: give --confirm too")
	}
	if err := o.checkOutput(c); err != nil {
		return err
	}
	if o.confirm && !o.yes && o.helm.source.vals.stdinFiles() > 0 {
		return usagef(c, "-f - reads the values from standard input, where --confirm would ask: add --yes, or give the values in a file")
	}
	if o.confirm && !o.yes && !isTerminal(c.App.Reader) {
		return usagef(c, "--confirm asks on a terminal and stdin is not one: nothing was changed; add --yes to go on without asking")
	}
	if len(o.Unbind) > 0 && !o.dryRun {
		if !o.yes && o.helm.source.vals.stdinFiles() > 0 {
			return usagef(c, "-f - reads the values from standard input, where --unbind would ask: add --yes, or give the values in a file")
		}
		if err := confirmUnbind(c.App.Reader, isTerminal(c.App.Reader), c.App.ErrWriter, c.Args().Get(0), o.Unbind, o.yes); err != nil {
			if errors.Is(err, errNoTerminal) {
				return usagef(c, "%v", err)
			}
			return err
		}
	}
	if blueGreen, err := o.blueGreenStrategy(c); err != nil {
		return err
	} else if blueGreen {
		return o.blueGreen(c)
	}
	return o.apply(c, "", c.Args().Get(1), "upgraded", func(cl *client, src plan.Source, wait release.WaitOptions) (*release.Release, error) {
		opts := o.options(c.Args().Get(0), src, wait)
		if !o.showDiff && !o.confirm {
			return cl.Upgrade(c.Context, opts)
		}
		// The revision shown is the one performed: read and resolved
		// once; refused if the release moves on in between.
		var rev *release.Revision
		err := o.preview(c, fmt.Sprintf("Upgrade release %q as shown?", opts.ReleaseName), opts.ReleaseName, func() (_ *diff.Plan, err error) {
			if rev, err = cl.Prepare(c.Context, release.PrepareOptions{Upgrade: &opts}); err != nil {
				return nil, err
			}
			return cl.DiffRevision(c.Context, rev, diff.Options{Context: o.diffContext})
		})
		if err != nil {
			return nil, err
		}
		return cl.Perform(c.Context, rev)
	})
}

// checkOutput checks -o with upgrade's own flags: --diff and --confirm
// print the changes where -o json|yaml prints the release, and a
// blue-green upgrade makes colour releases, not the release named.
func (o *upgradeOptions) checkOutput(c *ucli.Context) error {
	if err := o.output.check(c); err != nil {
		return err
	}
	format := o.output.format
	if format != outJSON && format != outYAML {
		return nil
	}
	if o.showDiff || o.confirm {
		flag := "--diff"
		if o.confirm {
			flag = "--confirm"
		}
		return usagef(c, "%s prints the changes on standard output, where -o %s prints the release: drop one (bundle diff upgrade -o %s prints the changes as %s)", flag, format, format, strings.ToUpper(format))
	}
	if o.strategy == bluegreen.Strategy {
		return usagef(c, "-o %s with --strategy blue-green: the upgrade makes and switches colour releases; drop -o, and see the live one with bundle status %s -o %s", format, c.Args().Get(0), format)
	}
	return nil
}

// preview is upgrade's --diff and --confirm: with either, the plan that
// plan computes is printed, and with --confirm (unless --yes) question is
// asked; a no changes nothing of release name.
func (o *upgradeOptions) preview(c *ucli.Context, question, name string, plan func() (*diff.Plan, error)) error {
	if !o.showDiff && !o.confirm {
		return nil
	}
	p, err := plan()
	if err != nil {
		return asDiff(err)
	}
	if err := printPlan(c.App.Writer, p, useColor(c)); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	if !o.confirm || o.yes {
		return nil
	}
	ok, err := ask(c.App.Reader, c.App.ErrWriter, question)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("upgrade of %q not confirmed: nothing was changed", name)
	}
	return nil
}

// blueGreen is bundle upgrade --strategy blue-green.
func (o *upgradeOptions) blueGreen(c *ucli.Context) error {
	name := c.Args().Get(0)
	if err := o.checkHide(c); err != nil {
		return err
	}
	cl, src, err := o.prepare(c, "", c.Args().Get(1))
	if err != nil {
		return err
	}
	opts := o.options(name, src, o.wait.options(c))
	// With --diff or --confirm, the upgrade shown is the one performed:
	// planned (its bundle read and resolved) once, and refused if the app
	// changes in between.
	var plan *bluegreen.Plan
	err = o.preview(c, fmt.Sprintf("Upgrade blue-green app %q as shown?", name), name, func() (_ *diff.Plan, err error) {
		if plan, err = cl.apps.PlanUpgrade(c.Context, opts); err != nil {
			return nil, err
		}
		d, err := cl.apps.DiffPlan(c.Context, plan, diff.Options{Context: o.diffContext})
		if err == nil {
			printBlueGreenPlan(c.App.Writer, cl.Namespace(), plan.Next)
		}
		return d, err
	})
	if err != nil {
		return err
	}
	var st *bluegreen.State
	if plan != nil {
		st, err = cl.apps.Perform(c.Context, plan)
	} else {
		st, err = cl.apps.Upgrade(c.Context, opts)
	}
	if err != nil {
		return err
	}
	if o.dryRun {
		if err := printDone(c.App.Writer, "upgraded", o.shown(st.Release), true); err != nil {
			return err
		}
		printBlueGreen(c.App.Writer, cl.Namespace(), st, "would switch to")
		return nil
	}
	printReconciled(c.App.ErrWriter, st)
	printBlueGreen(c.App.Writer, cl.Namespace(), st, "switched to")
	return nil
}

// errNoTerminal refuses a question that cannot be asked.
var errNoTerminal = errors.New("stdin is not a terminal")

// confirmUnbind says what --unbind does to release name (each instance
// gets a new, empty one of its own; the data stays with the release it
// was bound to) and, unless yes, asks on terminal in: refused when in is
// not one, declined on anything but yes.
func confirmUnbind(in io.Reader, terminal bool, w io.Writer, name string, instances []string, yes bool) error {
	list := strings.Join(instances, ", ")
	what := fmt.Sprintf("--unbind %s moves release %q to a new, empty %s of its own: nothing of the data in the release it is bound to is copied, and that release keeps it", list, name, list)
	if yes {
		fmt.Fprintf(w, "%s.\n", what)
		return nil
	}
	if !terminal {
		return fmt.Errorf("%s; it asks first on a terminal and %w: nothing was changed; add --yes to go on without asking", what, errNoTerminal)
	}
	fmt.Fprintf(w, "%s.\n", what)
	ok, err := ask(in, w, "Go on?")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("upgrade of %q with --unbind %s not confirmed: nothing was changed", name, list)
	}
	return nil
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ask asks question on w and reads the answer from r: true for y or yes
// (any case), false for anything else, an empty line or the end of input.
func ask(r io.Reader, w io.Writer, question string) (bool, error) {
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// check checks upgrade's arguments and its own flags, --history-max
// taken from $HELM_MAX_HISTORY when not given, as in helm (historyMax).
func (o *upgradeOptions) check(c *ucli.Context) error {
	if err := exactArgs(c, 2, "NAME BUNDLE"); err != nil {
		return err
	}
	var err error
	o.MaxHistory, err = historyMax(c, o.MaxHistory)
	return err
}

// historyMax is --history-max, given as n, or $HELM_MAX_HISTORY when the
// flag is not given, as in helm; checked.
func historyMax(c *ucli.Context, n int) (int, error) {
	if !c.IsSet("history-max") {
		max, ok, err := helmMaxHistory(getenv(c))
		if err != nil {
			return 0, err
		}
		if ok {
			n = max
		}
	}
	if n < 0 {
		return 0, usagef(c, "--history-max %d: give a number of revisions, or 0 to keep all", n)
	}
	return n, nil
}

// options are the library's upgrade options these flags say.
func (o *upgradeOptions) options(name string, src plan.Source, wait release.WaitOptions) release.UpgradeOptions {
	opts := o.UpgradeOptions
	opts.Source, opts.ReleaseName, opts.DryRun = src, name, o.dryRun
	opts.WaitOptions, opts.HelmOptions = wait, o.helm.HelmOptions
	return opts
}
