package cli

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/release"
)

// rollbackOptions are bundle rollback's flags.
type rollbackOptions struct {
	kube  kubeOptions
	wait  waitOptions
	write writeOptions
	release.RollbackOptions
}

func rollbackCommand() *ucli.Command {
	o := &rollbackOptions{}
	return command("rollback", helpText{
		usage: "restore an earlier revision of a release, app and infrastructure together",
		args:  "NAME [REVISION]",
		description: `For a blue-green app (bundle upgrade --strategy blue-green), rollback without REVISION switches the
stable Services back to the spare colour at once, creating no pod; see docs/blue-green.md.`,
		examples: `# back to the previous revision, app and infrastructure together
bundle rollback wiki
bundle rollback wiki 2 --wait
# a blue-green app: switch back to the spare colour
bundle rollback shop`,
	}, o.run, o.kube.flags(), o.wait.flags(), o.write.flags(&o.Force, false), []ucli.Flag{
		dryRunFlag(&o.DryRun, "validate the revision rolled back to against the cluster; change nothing", ""),
		o.wait.quietFlag(),
		boolFlag(&o.WaitForJobs, "wait-for-jobs", "with --wait, also wait until every Job has completed"),
		stringFlag(&o.Description, "description", "", fmt.Sprintf("record this description with the new revision (at most %d characters)", release.MaxDescriptionLength)),
		noHooksFlag(&o.NoHooks, "do not run the hooks of the revision rolled back to"),
		boolFlag(&o.CleanupOnFail, "cleanup-on-fail", "delete the resources this rollback created if it fails"),
		intFlag(&o.MaxHistory, "history-max", 10, "keep at most this many revisions (0: all; when not given, $HELM_MAX_HISTORY if set)"),
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
	if err := o.write.check(c); err != nil {
		return err
	}
	if opts.MaxHistory, err = historyMax(c, opts.MaxHistory); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(opts.Description); n > release.MaxDescriptionLength {
		return usagef(c, "--description has %d characters: give at most %d, as helm 4 allows", n, release.MaxDescriptionLength)
	}
	opts.WaitOptions = o.wait.options(c)
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	if opts.Revision == 0 && cl.apps.IsApp(opts.ReleaseName) {
		if opts.DryRun {
			spare := "its spare"
			if st, err := cl.apps.Read(c.Context, opts.ReleaseName); err == nil && st.Spare != "" {
				spare = st.SpareRelease() + " (bundle status " + st.SpareRelease() + " shows it)"
			}
			return usagef(c, "--dry-run: %q is a blue-green app, whose rollback only switches its stable Services to %s", opts.ReleaseName, spare)
		}
		st, err := cl.apps.Rollback(c.Context, opts.ReleaseName)
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
