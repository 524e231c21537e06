package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

func templateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "template",
		Usage:     "render a bundle and its requirements to Kubernetes manifests, without a cluster",
		ArgsUsage: "[NAME] BUNDLE",
		Flags: flags(valuesFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default", Usage: "namespace the templates see"},
			&ucli.StringFlag{Name: "output-dir", Usage: "write one file per template under DIR instead of printing"},
			&ucli.StringFlag{Name: "kube-version", Usage: "Kubernetes version the templates see (.Capabilities.KubeVersion)"},
		}),
		Action: func(c *ucli.Context) error {
			name, ref, err := nameAndBundle(c)
			if err != nil {
				return err
			}
			set, err := repos(c)
			if err != nil {
				return err
			}
			p, err := release.Prepare(c.Context, set, sourceFrom(c, ref))
			if err != nil {
				return err
			}
			out, err := render.Template(c.Context, p.Plan(), render.TemplateOptions{
				ReleaseName: name,
				Namespace:   c.String("namespace"),
				Values:      p.Values(),
				KubeVersion: c.String("kube-version"),
			})
			if err != nil {
				return err
			}
			if dir := c.String("output-dir"); dir != "" {
				written, err := render.WriteDir(dir, out)
				for _, f := range written {
					fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", f)
				}
				return err
			}
			_, err = io.WriteString(c.App.Writer, out)
			return err
		},
	}
}

func installCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "install",
		Usage:     "install a bundle with its infrastructure as one release",
		ArgsUsage: "[NAME] BUNDLE",
		Description: "BUNDLE is REPO/NAME (stable/mediawiki) or a directory (./myapp).\n" +
			"NAME defaults to the bundle's name.",
		Flags: flags(kubeFlags(), valuesFlags(), waitFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "create-namespace", Usage: "create the namespace if it does not exist"},
			&ucli.BoolFlag{Name: "atomic", Usage: "uninstall everything if the install fails (implies --wait)"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate against the cluster and print the manifests; change nothing"},
		}),
		Action: func(c *ucli.Context) error {
			name, ref, err := nameAndBundle(c)
			if err != nil {
				return err
			}
			if err := positiveTimeout(c); err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rel, err := cl.Install(c.Context, release.InstallOptions{
				Source:          sourceFrom(c, ref),
				ReleaseName:     name,
				WaitOptions:     waitFrom(c),
				CreateNamespace: c.Bool("create-namespace"),
				Atomic:          c.Bool("atomic"),
				DryRun:          c.Bool("dry-run"),
			})
			if err != nil {
				return err
			}
			return printDone(c.App.Writer, "installed", rel, c.Bool("dry-run"))
		},
	}
}

func upgradeCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "upgrade",
		Usage:     "upgrade a release to a new bundle version or new values",
		ArgsUsage: "NAME BUNDLE",
		Flags: flags(kubeFlags(), valuesFlags(), waitFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "atomic", Usage: "roll back if the upgrade fails (implies --wait)"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate against the cluster and print the manifests; change nothing"},
			&ucli.BoolFlag{Name: "reuse-values", Usage: "start from the current revision's values"},
			&ucli.BoolFlag{Name: "install", Aliases: []string{"i"}, Usage: "install the release if it does not exist"},
			&ucli.BoolFlag{Name: "create-namespace", Usage: "with --install, create the namespace if needed"},
			&ucli.BoolFlag{Name: "update-deps", Usage: "move requirements to their newest fitting versions (default: keep the installed ones while they fit)"},
		}),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 2, "NAME BUNDLE"); err != nil {
				return err
			}
			if err := positiveTimeout(c); err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rel, err := cl.Upgrade(c.Context, release.UpgradeOptions{
				Source:          sourceFrom(c, c.Args().Get(1)),
				ReleaseName:     c.Args().Get(0),
				WaitOptions:     waitFrom(c),
				Atomic:          c.Bool("atomic"),
				DryRun:          c.Bool("dry-run"),
				ReuseValues:     c.Bool("reuse-values"),
				Install:         c.Bool("install"),
				CreateNamespace: c.Bool("create-namespace"),
				UpdateDeps:      c.Bool("update-deps"),
			})
			if err != nil {
				return err
			}
			return printDone(c.App.Writer, "upgraded", rel, c.Bool("dry-run"))
		},
	}
}

func rollbackCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "rollback",
		Usage:     "restore an earlier revision of a release, app and infrastructure together",
		ArgsUsage: "NAME [REVISION]",
		Flags: flags(kubeFlags(), waitFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "dry-run", Usage: "simulate"},
		}),
		Action: func(c *ucli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return usagef(c, "expected NAME [REVISION], got %d arguments", c.NArg())
			}
			rev := 0
			if c.NArg() == 2 {
				n, err := strconv.Atoi(c.Args().Get(1))
				if err != nil || n < 1 {
					return usagef(c, "REVISION %q: give a revision number from bundle history", c.Args().Get(1))
				}
				rev = n
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rel, err := cl.Rollback(c.Context, release.RollbackOptions{ReleaseName: c.Args().Get(0), Revision: rev, WaitOptions: waitFrom(c), DryRun: c.Bool("dry-run")})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "Rolled back %q: now revision %d (%s)\n", rel.Name, rel.Revision, rel.Status)
			return nil
		},
	}
}

func uninstallCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "uninstall",
		Usage:     "delete a release: the app and its infrastructure",
		ArgsUsage: "NAME",
		Flags: flags(kubeFlags(), waitFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "keep-history", Usage: "keep the release records"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "simulate"},
		}),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "NAME"); err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rel, err := cl.Uninstall(c.Context, release.UninstallOptions{ReleaseName: c.Args().Get(0), WaitOptions: waitFrom(c), KeepHistory: c.Bool("keep-history"), DryRun: c.Bool("dry-run")})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "Uninstalled %q from namespace %q\n", rel.Name, rel.Namespace)
			return nil
		},
	}
}

func listCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "list",
		Usage: "list releases (bundle and plain Helm ones)",
		Flags: flags(kubeFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "list releases of every namespace"},
			outputFlag(),
		}),
		Action: func(c *ucli.Context) error {
			cl, err := readClient(c, 0, "no arguments")
			if err != nil {
				return err
			}
			rels, err := cl.List(c.Context, release.ListOptions{AllNamespaces: c.Bool("all-namespaces")})
			if err != nil {
				return err
			}
			if c.String("output") == "json" {
				return writeJSON(c.App.Writer, jsonReleases(rels))
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tNAMESPACE\tREVISION\tSTATUS\tBUNDLE\tAPP VERSION\tUPDATED")
			for _, r := range rels {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s-%s\t%s\t%s\n", r.Name, r.Namespace, r.Revision, r.Status, r.Bundle, r.Version, r.AppVersion, age(r.Updated))
			}
			return tw.Flush()
		},
	}
}

func statusCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show a release: its resolved bundles and each resource's readiness",
		ArgsUsage: "NAME",
		Flags:     flags(kubeFlags(), []ucli.Flag{outputFlag()}),
		Action: func(c *ucli.Context) error {
			cl, err := readClient(c, 1, "NAME")
			if err != nil {
				return err
			}
			st, err := cl.Status(c.Context, c.Args().Get(0), 0)
			if err != nil {
				return err
			}
			if c.String("output") == "json" {
				return writeJSON(c.App.Writer, jsonStatus(st))
			}
			return printStatus(c.App.Writer, st)
		},
	}
}

func historyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "history",
		Usage:     "list a release's revisions",
		ArgsUsage: "NAME",
		Flags:     flags(kubeFlags(), []ucli.Flag{outputFlag()}),
		Action: func(c *ucli.Context) error {
			cl, err := readClient(c, 1, "NAME")
			if err != nil {
				return err
			}
			rels, err := cl.History(c.Context, c.Args().Get(0))
			if err != nil {
				return err
			}
			if c.String("output") == "json" {
				return writeJSON(c.App.Writer, jsonReleases(rels))
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tUPDATED\tSTATUS\tBUNDLE\tAPP VERSION\tDESCRIPTION")
			for _, r := range rels {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s-%s\t%s\t%s\n", r.Revision, age(r.Updated), r.Status, r.Bundle, r.Version, r.AppVersion, r.Description)
			}
			return tw.Flush()
		},
	}
}

func printDone(w io.Writer, verb string, r *release.Release, dryRun bool) error {
	if dryRun {
		fmt.Fprintf(w, "# dry run: %s %s-%s as %q in namespace %q would be %s\n", r.Bundle, r.Bundle, r.Version, r.Name, r.Namespace, verb)
		_, err := io.WriteString(w, strings.TrimSpace(r.Manifest)+"\n")
		return err
	}
	fmt.Fprintf(w, "Release %q %s in namespace %q: revision %d, %s\n", r.Name, verb, r.Namespace, r.Revision, r.Status)
	fmt.Fprintf(w, "Bundle: %s %s (app %s)\n", r.Bundle, r.Version, r.AppVersion)
	for _, d := range r.Resolved {
		fmt.Fprintf(w, "  %s: %s %s from %s\n", d.Instance, d.Bundle, d.Version, d.Repository)
	}
	if n := strings.TrimSpace(r.Notes); n != "" {
		fmt.Fprintf(w, "\n%s\n", n)
	}
	return nil
}

func printStatus(w io.Writer, st *release.Status) error {
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
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Resolved) > 0 {
		fmt.Fprintln(w, "\nREQUIRES:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  INSTANCE\tBUNDLE\tVERSION\tREPOSITORY")
		for _, d := range st.Resolved {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Instance, d.Bundle, d.Version, d.Repository)
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
	return tw.Flush()
}

type jsonRelease struct {
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
	Revision   int               `json:"revision"`
	Status     string            `json:"status"`
	Updated    string            `json:"updated"`
	Bundle     string            `json:"bundle"`
	Version    string            `json:"version"`
	AppVersion string            `json:"appVersion"`
	Requires   []render.Resolved `json:"requires,omitempty"`
}

func toJSON(r *release.Release) jsonRelease {
	return jsonRelease{Name: r.Name, Namespace: r.Namespace, Revision: r.Revision, Status: r.Status, Updated: age(r.Updated), Bundle: r.Bundle, Version: r.Version, AppVersion: r.AppVersion, Requires: r.Resolved}
}

func jsonReleases(rs []*release.Release) []jsonRelease {
	out := make([]jsonRelease, 0, len(rs))
	for _, r := range rs {
		out = append(out, toJSON(r))
	}
	return out
}

func jsonStatus(st *release.Status) any {
	type res struct {
		Kind  string `json:"kind"`
		Name  string `json:"name"`
		State string `json:"state"`
	}
	out := struct {
		jsonRelease
		Ready     bool  `json:"ready"`
		Resources []res `json:"resources"`
	}{jsonRelease: toJSON(st.Release), Ready: st.Ready()}
	for _, r := range st.Resources {
		out.Resources = append(out.Resources, res{r.Kind, r.Name, r.State})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readClient checks the arguments and --output of a read-only command and
// returns its client.
func readClient(c *ucli.Context, nargs int, what string) (*release.Client, error) {
	if err := exactArgs(c, nargs, what); err != nil {
		return nil, err
	}
	if err := checkOutput(c); err != nil {
		return nil, err
	}
	return client(c)
}
