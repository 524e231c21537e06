package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release"
)

// uninstallOptions are bundle uninstall's flags.
type uninstallOptions struct {
	kube kubeOptions
	wait waitOptions
	release.UninstallOptions
	ignoreNotFound bool
}

func uninstallCommand() *ucli.Command {
	o := &uninstallOptions{wait: waitOptions{silent: true}} // Helm waits for the deletion
	return command("uninstall", helpText{
		usage: "delete releases: each app and its infrastructure",
		args:  "NAME [NAME...]",
		description: `Several releases are uninstalled one after the other, in the order given, each with the same
flags, as helm does: the first that fails ends the command, the ones before it uninstalled, the
ones after it left as they were.

The release's data is kept: its persistent volume claims, and the Secrets the data was
initialised with (a database's generated passwords, labelled bundle.sh/kept-with-data), which an
install under the same name takes back. --delete-data deletes the claims, then those Secrets.

A release other releases are bound to (bundle install --bind) is not uninstalled: they are
listed with the commands that free it; --force uninstalls it anyway.

NAME of a blue-green app (bundle upgrade --strategy blue-green) uninstalls the whole app: both
colours, then its stable Services and the claims it holds (users dropped, databases kept unless
--delete-data). The live colour alone is not uninstalled without --force.`,
		examples: `bundle uninstall wiki --wait
bundle uninstall wiki --keep-history
# several releases, in this order
bundle uninstall wiki blog -n team`,
	}, o.run, o.kube.flags(), o.wait.flags(), []ucli.Flag{
		boolFlag(&o.KeepHistory, "keep-history", "keep the release records"),
		boolFlag(&o.DeleteData, "delete-data", "delete the release's persistent volume claims too (kept otherwise), then the Secrets its data was initialised with (kept with it otherwise), and the databases of its bindings' claims (see docs/bindings.md)"),
		noHooksFlag(&o.NoHooks, "do not run the release's hooks (a binding claim's, which drops its user, among them)"),
		boolFlag(&o.DryRun, "dry-run", "simulate: say what would be deleted and kept"),
		boolFlag(&o.Force, "force", "uninstall even if other releases are bound to this one (they lose what they require)"),
		boolFlag(&o.ignoreNotFound, "ignore-not-found", "a release that does not exist is no error: say so and go on"),
		stringFlag(&o.Description, "description", "", "record this description with the uninstalled revision (kept with --keep-history)"),
		stringFlag(&o.Cascade, "cascade", release.CascadeForeground, "how the objects' dependents are deleted: foreground (an object goes once they are gone), background, or orphan (they are left)"),
	})
}

// run uninstalls each release named, in order, with the same flags, as
// helm does: the first that fails ends the command, the releases before
// it uninstalled (and said so), those after it left as they were.
func (o *uninstallOptions) run(c *ucli.Context) error {
	if c.NArg() < 1 {
		return usagef(c, "expected NAME [NAME...], got 0 arguments")
	}
	switch o.Cascade {
	case release.CascadeForeground, release.CascadeBackground:
	case release.CascadeOrphan:
		if o.DeleteData {
			return usagef(c, "--cascade orphan leaves the release's pods, which would keep using the claims --delete-data deletes: drop one")
		}
	default:
		return usagef(c, "--cascade %q: give foreground, background or orphan", o.Cascade)
	}
	cl, err := o.kube.client(c)
	if err != nil {
		return err
	}
	for _, name := range c.Args().Slice() {
		opts := o.UninstallOptions
		opts.ReleaseName, opts.WaitOptions = name, o.wait.options(c)
		res, err := cl.apps.Uninstall(c.Context, opts)
		if o.ignoreNotFound && errors.Is(err, errdefs.ErrNotFound) {
			fmt.Fprintf(c.App.Writer, "Release %q not found in namespace %q: nothing to uninstall\n", name, cl.Namespace())
			continue
		}
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
