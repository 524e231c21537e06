package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

// pruneOptions are bundle prune's flags.
type pruneOptions struct {
	kube kubeOptions
}

func pruneCommand() *ucli.Command {
	o := &pruneOptions{}
	return command("prune", helpText{
		usage: "remove the spare colour of a blue-green app",
		args:  "NAME",
		description: `Uninstalls NAME-blue or NAME-green, whichever is the spare (bundle upgrade --strategy blue-green
keeps the colour that was live as a hot spare); the live colour, the stable Services and the app's
claims (its databases, shared by both colours) are left as they are. See docs/blue-green.md.`,
		examples: `bundle upgrade shop ./shop --strategy blue-green --bind database=shop-db
bundle prune shop`,
	}, o.run, o.kube.flags())
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
	st, un, err := cl.apps.Prune(c.Context, name)
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
