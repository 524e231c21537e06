package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/diff"
	"github.com/bundlesh/bundle/pkg/graph"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// templateOptions are bundle template's flags.
type templateOptions struct {
	kube         kubeOptions
	source       sourceOptions
	naming       render.Naming
	postRenderer render.PostRenderer
	outputDir    string
	releaseDir   bool
	render.TemplateOptions
	apiVersions ucli.StringSlice
	skipCRDs    bool // accepted, as helm template accepts it
}

func templateCommand() *ucli.Command {
	o := &templateOptions{}
	return command("template", o.run, o.kube.flags(), o.source.flags(), namingFlags(&o.naming), postRendererFlags(&o.postRenderer), []ucli.Flag{
		o.source.develFlag(),
		stringFlag(&o.outputDir, "output-dir", "", "write one file per template under DIR instead of printing"),
		boolFlag(&o.releaseDir, "release-name", "with --output-dir, write under DIR/NAME"),
		stringFlag(&o.KubeVersion, "kube-version", "", "Kubernetes version the templates see (.Capabilities.KubeVersion)"),
		sliceFlag(&o.apiVersions, "api-versions", "an API version the templates see in .Capabilities.APIVersions, e.g. monitoring.coreos.com/v1 (repeatable)", "a"),
		arrayFlag(&o.ShowOnly, "show-only", "print only the manifests of templates matching this path, e.g. templates/deployment.yaml or charts/database/templates/*.yaml (repeatable)", "s"),
		boolFlag(&o.IncludeCRDs, "include-crds", "print the CRDs in crds/ (the bundle's and its requirements') first"),
		boolFlag(&o.skipCRDs, "skip-crds", "accepted as helm template accepts it: template prints CRDs only with --include-crds"),
		boolFlag(&o.SkipTests, "skip-tests", "leave test hooks out"),
		noHooksFlag(&o.NoHooks, "leave every hook out"),
		boolFlag(&o.IsUpgrade, "is-upgrade", "render as for an upgrade (.Release.IsUpgrade)"),
		hidden(arrayFlag(&o.source.bind, "bind", "refused: template reads no cluster")),
	})
}

func (o *templateOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	if err := checkNaming(c, name, o.naming, o.postRenderer); err != nil {
		return err
	}
	if len(o.source.bind) > 0 {
		return usagef(c, "--bind %s: template reads no cluster, so not the release a requirement is bound to; see what would be installed with bundle diff install or bundle install --dry-run", o.source.bind[0])
	}
	if o.outputDir != "" && len(o.ShowOnly) > 0 {
		return usagef(c, "--show-only and --output-dir: choose one (helm finds no template either way)")
	}
	set, err := o.source.registry.repos(c)
	if err != nil {
		return err
	}
	src, err := o.source.source(c, ref)
	if err != nil {
		return err
	}
	p, err := plan.Make(c.Context, set, src)
	if err != nil {
		return err
	}
	opts := o.TemplateOptions
	if opts.ReleaseName, err = render.ReleaseName(p.Root.Bundle.Name, name, o.naming, time.Now()); err != nil {
		return err
	}
	kube, err := o.kube.options(c)
	if err != nil {
		return err
	}
	opts.Namespace = kube.ResolveNamespace()
	opts.Values = p.Values
	opts.APIVersions = o.apiVersions.Value()
	opts.PostRenderer = o.postRenderer
	if o.outputDir == "" {
		out, err := render.Template(c.Context, p, opts)
		if err != nil {
			return err
		}
		_, err = io.WriteString(c.App.Writer, out)
		return err
	}
	r, err := render.Render(c.Context, p, opts)
	if err != nil {
		return err
	}
	docs, err := r.Documents()
	if err != nil {
		return err
	}
	releaseDir := ""
	if o.releaseDir {
		releaseDir = opts.ReleaseName
	}
	written, err := render.WriteDir(o.outputDir, releaseDir, docs)
	for _, f := range written {
		fmt.Fprintf(c.App.Writer, "wrote %s\n", f) // on stdout, as helm
	}
	if err == nil {
		fmt.Fprintln(c.App.Writer) // helm prints its (empty) stream
	}
	return err
}

// applyOptions are what install and upgrade share: the cluster, the
// bundle and values (Helm's flags), the wait, and the dry run.
type applyOptions struct {
	kube   kubeOptions
	helm   helmOptions
	wait   waitOptions
	dryRun bool
	// output is install's and upgrade's -o (not bundle diff's: its own).
	output outputOption
}

func (o *applyOptions) flags(verb string) []ucli.Flag {
	return flags(o.kube.flags(), o.helm.flags(verb), o.wait.flags(), []ucli.Flag{
		o.wait.quietFlag(),
		boolFlag(&o.dryRun, "dry-run", "validate against the cluster and print the manifests; change nothing"),
	})
}

// apply checks the flags install and upgrade share, binds what they apply
// (the source: bundle, version, values; the client of the cluster; the
// wait), runs op with them and prints the release as verb.
func (o *applyOptions) apply(c *ucli.Context, name, ref, verb string, op func(*release.Client, plan.Source, release.WaitOptions) (*release.Release, error)) error {
	cl, src, err := o.prepare(c, name, ref)
	if err != nil {
		return err
	}
	rel, err := op(cl, src, o.wait.options(c))
	if err != nil {
		return err
	}
	return o.print(c, cl, verb, rel)
}

// print prints the release an install or upgrade made (with --dry-run,
// would make): with -o json|yaml, as bundle get all prints it, read back
// from the cluster (a dry run's, and one that cannot be read back, from
// what the operation returned, with a warning); else its summary.
func (o *applyOptions) print(c *ucli.Context, cl *release.Client, verb string, rel *release.Release) error {
	if o.output.format != outJSON && o.output.format != outYAML {
		return printDone(c.App.Writer, verb, rel, o.dryRun)
	}
	d := &release.Details{Release: rel, Chart: release.ChartInfo{Name: rel.Bundle, Version: rel.Version, AppVersion: rel.AppVersion}}
	if !o.dryRun {
		got, err := cl.Get(c.Context, rel.Name, rel.Revision)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: release %q %s, but reading it back failed (%s): printing what the operation returned\n", rel.Name, verb, oneLine(withHints(err)))
		} else {
			d = got
		}
	}
	_, err := o.output.write(c.App.Writer, toReleaseObject(d))
	return err
}

// prepare checks the flags install and upgrade share and returns the
// client of the cluster and the source (bundle, version, values).
func (o *applyOptions) prepare(c *ucli.Context, name, ref string) (*release.Client, plan.Source, error) {
	if err := o.output.check(c); err != nil {
		return nil, plan.Source{}, err
	}
	if err := checkNaming(c, name, o.helm.naming, o.helm.PostRenderer); err != nil {
		return nil, plan.Source{}, err
	}
	if err := o.wait.check(c); err != nil {
		return nil, plan.Source{}, err
	}
	src, err := o.helm.source.source(c, ref)
	if err != nil {
		return nil, plan.Source{}, err
	}
	o.helm.source.registry.Quiet = o.wait.quiet
	if err := checkRepositoryEnv(getenv(c)); err != nil {
		return nil, plan.Source{}, err
	}
	kube, err := o.kube.options(c)
	if err != nil {
		return nil, plan.Source{}, err
	}
	cl, err := newClient(c, kube, o.helm.source.registry)
	if err != nil {
		return nil, plan.Source{}, err
	}
	return cl, src, nil
}

// installOptions are bundle install's flags.
type installOptions struct {
	applyOptions
	release.InstallOptions
}

func installCommand() *ucli.Command {
	o := &installOptions{}
	return command("install", o.run, o.flags(), []ucli.Flag{o.output.flag()})
}

// flags are install's flags (bundle diff install's too).
func (o *installOptions) flags() []ucli.Flag {
	return flags(o.applyOptions.flags("install"), namingFlags(&o.helm.naming), []ucli.Flag{
		boolFlag(&o.helm.SkipCRDs, "skip-crds", "do not create the CRDs in crds/"),
		boolFlag(&o.CreateNamespace, "create-namespace", "create the namespace if it does not exist"),
		boolFlag(&o.Atomic, "atomic", "uninstall everything if the install fails (implies --wait)"),
	})
}

func (o *installOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	return o.apply(c, name, ref, "installed", func(cl *release.Client, src plan.Source, wait release.WaitOptions) (*release.Release, error) {
		return cl.Install(c.Context, o.options(name, src, wait))
	})
}

// options are the library's install options these flags say.
func (o *installOptions) options(name string, src plan.Source, wait release.WaitOptions) release.InstallOptions {
	opts := o.InstallOptions
	opts.Source, opts.ReleaseName, opts.Naming, opts.DryRun = src, name, o.helm.naming, o.dryRun
	opts.WaitOptions, opts.HelmOptions = wait, o.helm.HelmOptions
	return opts
}

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
	return command("upgrade", o.run, o.flags(), []ucli.Flag{
		boolFlag(&o.showDiff, "diff", "print what the upgrade will change (as bundle diff upgrade) before changing it"),
		boolFlag(&o.confirm, "confirm", "with the changes printed (implies --diff), ask before going on; refused when stdin is not a terminal, unless --yes"),
		boolFlag(&o.yes, "yes", "with --confirm, go on without asking", "y"),
		intFlag(&o.diffContext, "diff-context", diff.DefaultContext, "with --diff, lines of context around each change"),
		o.output.flag(),
	})
}

// flags are upgrade's flags (bundle diff upgrade's too).
func (o *upgradeOptions) flags() []ucli.Flag {
	return flags(o.applyOptions.flags("upgrade"), []ucli.Flag{
		boolFlag(&o.Atomic, "atomic", "roll back if the upgrade fails (implies --wait)"),
		boolFlag(&o.ReuseValues, "reuse-values", "apply the given values over the current revision's values and defaults (ignored with --reset-values)"),
		boolFlag(&o.ResetValues, "reset-values", "start from the bundle's defaults only"),
		boolFlag(&o.ResetThenReuseValues, "reset-then-reuse-values", "apply the given values over the current revision's, over the new version's defaults (ignored with --reset-values or --reuse-values)"),
		boolFlag(&o.Force, "force", "replace resources that cannot be updated in place"),
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
	case release.StrategyBlueGreen:
	default:
		return false, usagef(c, "--strategy %q: give blue-green (or leave it out for a rolling upgrade in place)", o.strategy)
	}
	if o.Atomic {
		return false, usagef(c, "--atomic adds nothing to --strategy blue-green (a colour that fails is never switched to): leave it out")
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
	if o.yes && !o.confirm {
		return usagef(c, "--yes answers --confirm's question: give --confirm too")
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
	if blueGreen, err := o.blueGreenStrategy(c); err != nil {
		return err
	} else if blueGreen {
		return o.blueGreen(c)
	}
	return o.apply(c, "", c.Args().Get(1), "upgraded", func(cl *release.Client, src plan.Source, wait release.WaitOptions) (*release.Release, error) {
		opts := o.options(c.Args().Get(0), src, wait)
		err := o.preview(c, fmt.Sprintf("Upgrade release %q as shown?", opts.ReleaseName), opts.ReleaseName, func() (*diff.Plan, error) {
			d := opts
			return cl.Diff(c.Context, release.DiffOptions{Upgrade: &d, Options: diff.Options{Context: o.diffContext}})
		})
		if err != nil {
			return nil, err
		}
		return cl.Upgrade(c.Context, opts)
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
	if o.strategy == release.StrategyBlueGreen {
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
	cl, src, err := o.prepare(c, "", c.Args().Get(1))
	if err != nil {
		return err
	}
	opts := o.options(name, src, o.wait.options(c))
	err = o.preview(c, fmt.Sprintf("Upgrade blue-green app %q as shown?", name), name, func() (*diff.Plan, error) {
		p, next, err := cl.BlueGreenDiff(c.Context, opts, diff.Options{Context: o.diffContext})
		if err == nil {
			printBlueGreenPlan(c.App.Writer, cl.Namespace(), next)
		}
		return p, err
	})
	if err != nil {
		return err
	}
	st, err := cl.BlueGreenUpgrade(c.Context, opts)
	if err != nil {
		return err
	}
	if o.dryRun {
		if err := printDone(c.App.Writer, "upgraded", st.Release, true); err != nil {
			return err
		}
		printBlueGreen(c.App.Writer, cl.Namespace(), st, "would switch to")
		return nil
	}
	printReconciled(c.App.ErrWriter, st)
	printBlueGreen(c.App.Writer, cl.Namespace(), st, "switched to")
	return nil
}

// printBlueGreenPlan says what a blue-green upgrade's diff is of: the
// colour it installs or upgrades, the claims made first, and the switch.
func printBlueGreenPlan(w io.Writer, ns string, next *release.BlueGreen) {
	if next.Spare == "" {
		fmt.Fprintf(w, "Blue-green app %q in namespace %q: %s comes up; once ready, the stable Services select it", next.Name, ns, next.LiveRelease())
	} else {
		fmt.Fprintf(w, "Blue-green app %q in namespace %q: %s comes up beside the live colour; once ready, the stable Services switch to it and %s stays as the spare", next.Name, ns, next.LiveRelease(), next.SpareRelease())
	}
	fmt.Fprintln(w, ".")
	if len(next.NewClaims) > 0 {
		fmt.Fprintf(w, "First, the app's router makes its claims: %s.\n", strings.Join(next.NewClaims, ", "))
	}
	fmt.Fprintf(w, "The changes to %s:\n\n", next.LiveRelease())
}

// printReconciled says what a blue-green operation found wrong with the
// app's record and recorded, if anything.
func printReconciled(w io.Writer, st *release.BlueGreen) {
	if st != nil && st.Reconciled != "" {
		fmt.Fprintf(w, "warning: %s\n", st.Reconciled)
	}
}

// printBlueGreen says which colour a blue-green app now serves.
func printBlueGreen(w io.Writer, ns string, st *release.BlueGreen, verb string) {
	fmt.Fprintf(w, "Blue-green app %q in namespace %q %s %s (release %s, revision %d)\n", st.Name, ns, verb, st.Live, st.LiveRelease(), st.Revision)
	fmt.Fprintf(w, "Stable Services: %s\n", strings.Join(st.Services, ", "))
	if st.Spare != "" {
		fmt.Fprintf(w, "Spare: %s (bundle rollback %s switches back; bundle prune %s removes it)\n", st.SpareRelease(), st.Name, st.Name)
	} else {
		fmt.Fprintf(w, "Spare: none\n")
	}
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
// taken from $HELM_MAX_HISTORY when not given, as in helm.
func (o *upgradeOptions) check(c *ucli.Context) error {
	if err := exactArgs(c, 2, "NAME BUNDLE"); err != nil {
		return err
	}
	if !c.IsSet("history-max") {
		max, ok, err := helmMaxHistory(getenv(c))
		if err != nil {
			return err
		}
		if ok {
			o.MaxHistory = max
		}
	}
	if o.MaxHistory < 0 {
		return usagef(c, "--history-max %d: give a number of revisions, or 0 to keep all", o.MaxHistory)
	}
	return nil
}

// options are the library's upgrade options these flags say.
func (o *upgradeOptions) options(name string, src plan.Source, wait release.WaitOptions) release.UpgradeOptions {
	opts := o.UpgradeOptions
	opts.Source, opts.ReleaseName, opts.DryRun = src, name, o.dryRun
	opts.WaitOptions, opts.HelmOptions = wait, o.helm.HelmOptions
	return opts
}

// rollbackOptions are bundle rollback's flags.
type rollbackOptions struct {
	kube kubeOptions
	wait waitOptions
	release.RollbackOptions
}

func rollbackCommand() *ucli.Command {
	o := &rollbackOptions{}
	return command("rollback", o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
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
	return command("prune", o.run, o.kube.flags())
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
	return command("uninstall", o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
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
func claimNames(cs []release.VolumeClaim, ns string) string {
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
	return withAliases(command("list", o.run, o.kube.flags(), []ucli.Flag{
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
	return command("status", o.run, o.kube.flags(), []ucli.Flag{
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
	return withAliases(command("history", o.run, o.kube.flags(), []ucli.Flag{
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

func printDone(w io.Writer, verb string, r *release.Release, dryRun bool) error {
	if dryRun {
		fmt.Fprintf(w, "# dry run: %s %s-%s as %q in namespace %q would be %s\n", r.Bundle, r.Bundle, r.Version, r.Name, r.Namespace, verb)
		for _, e := range r.Elsewhere {
			fmt.Fprintf(w, "# %s\n", elsewhereLine(e))
		}
		_, err := io.WriteString(w, strings.TrimSpace(r.Manifest)+"\n")
		return err
	}
	fmt.Fprintf(w, "Release %q %s in namespace %q: revision %d, %s\n", r.Name, verb, r.Namespace, r.Revision, r.Status)
	fmt.Fprintf(w, "Bundle: %s %s (app %s)\n", r.Bundle, r.Version, r.AppVersion)
	for _, d := range r.Resolved {
		if d.Bound != "" {
			fmt.Fprintf(w, "  %s: %s %s bound to release %s\n", d.Instance, d.Bundle, d.Version, d.Bound)
			continue
		}
		fmt.Fprintf(w, "  %s: %s %s from %s\n", d.Instance, d.Bundle, d.Version, d.Repository)
	}
	if n := strings.TrimSpace(r.Notes); n != "" {
		fmt.Fprintf(w, "\n%s\n", n)
	}
	return nil
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
