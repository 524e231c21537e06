package cli

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

func templateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "template",
		Usage:     "render a bundle and its requirements to Kubernetes manifests, without a cluster",
		ArgsUsage: "[NAME] BUNDLE",
		Description: "Prints what helm template prints for the composed chart: the manifests in install order, then the hooks.\n" +
			"The namespace is -n, else $BUNDLE_NAMESPACE, else the kubeconfig context's (read, never contacted), else default.",
		Flags: flags(kubeFlags(), valuesFlags(), namingFlags(), postRendererFlags(), []ucli.Flag{
			develFlag(),
			&ucli.StringFlag{Name: "output-dir", Usage: "write one file per template under DIR instead of printing"},
			&ucli.BoolFlag{Name: "release-name", Usage: "with --output-dir, write under DIR/NAME"},
			&ucli.StringFlag{Name: "kube-version", Usage: "Kubernetes version the templates see (.Capabilities.KubeVersion)"},
			&ucli.StringSliceFlag{Name: "api-versions", Aliases: []string{"a"}, Usage: "an API version the templates see in .Capabilities.APIVersions, e.g. monitoring.coreos.com/v1 (repeatable)"},
			&ucli.GenericFlag{Name: "show-only", Aliases: []string{"s"}, Value: &stringArray{}, Usage: "print only the manifests of templates matching this path, e.g. templates/deployment.yaml or charts/database/templates/*.yaml (repeatable)"},
			&ucli.BoolFlag{Name: "include-crds", Usage: "print the CRDs in crds/ (the bundle's and its requirements') first"},
			&ucli.BoolFlag{Name: "skip-crds", Usage: "accepted as helm template accepts it: template prints CRDs only with --include-crds"},
			&ucli.BoolFlag{Name: "skip-tests", Usage: "leave test hooks out"},
			noHooksFlag("leave every hook out"),
			&ucli.BoolFlag{Name: "is-upgrade", Usage: "render as for an upgrade (.Release.IsUpgrade)"},
		}),
		Action: func(c *ucli.Context) error {
			name, ref, err := nameAndBundle(c)
			if err != nil {
				return err
			}
			if err := checkHelmFlags(c, name); err != nil {
				return err
			}
			set, err := repos(c)
			if err != nil {
				return err
			}
			src, err := sourceFrom(c, ref)
			if err != nil {
				return err
			}
			p, err := plan.Make(c.Context, set, src)
			if err != nil {
				return err
			}
			name, err = render.ReleaseName(p.Root.Bundle.Name, name, namingFrom(c), time.Now())
			if err != nil {
				return err
			}
			opts := render.TemplateOptions{
				ReleaseName:  name,
				Namespace:    kubeOptions(c).ResolveNamespace(),
				Values:       p.Values,
				KubeVersion:  c.String("kube-version"),
				APIVersions:  c.StringSlice("api-versions"),
				IsUpgrade:    c.Bool("is-upgrade"),
				IncludeCRDs:  c.Bool("include-crds"),
				NoHooks:      c.Bool("no-hooks"),
				SkipTests:    c.Bool("skip-tests"),
				ShowOnly:     array(c, "show-only"),
				PostRenderer: postRendererFrom(c),
			}
			if dir := c.String("output-dir"); dir != "" {
				if len(opts.ShowOnly) > 0 {
					return usagef(c, "--show-only and --output-dir: choose one (helm finds no template either way)")
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
				if c.Bool("release-name") {
					releaseDir = name
				}
				written, err := render.WriteDir(dir, releaseDir, docs)
				for _, f := range written {
					fmt.Fprintf(c.App.Writer, "wrote %s\n", f) // on stdout, as helm
				}
				if err == nil {
					fmt.Fprintln(c.App.Writer) // helm prints its (empty) stream
				}
				return err
			}
			out, err := render.Template(c.Context, p, opts)
			if err != nil {
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
			"NAME defaults to the bundle's name (see --generate-name and --name-template).\n" +
			"The CRDs in crds/ (the bundle's and its requirements') are created first when missing; as with helm,\n" +
			"they are never upgraded or deleted by bundle.",
		Flags: flags(kubeFlags(), valuesFlags(), waitFlags(), namingFlags(), helmFlags("install"), []ucli.Flag{
			&ucli.BoolFlag{Name: "skip-crds", Usage: "do not create the CRDs in crds/"},
			&ucli.BoolFlag{Name: "create-namespace", Usage: "create the namespace if it does not exist"},
			&ucli.BoolFlag{Name: "atomic", Usage: "uninstall everything if the install fails (implies --wait)"},
			progressFlag(),
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate against the cluster and print the manifests; change nothing"},
		}),
		Action: func(c *ucli.Context) error {
			name, ref, err := nameAndBundle(c)
			if err != nil {
				return err
			}
			src, cl, err := applyFrom(c, name, ref)
			if err != nil {
				return err
			}
			rel, err := cl.Install(c.Context, release.InstallOptions{
				Source:          src,
				ReleaseName:     name,
				Naming:          namingFrom(c),
				WaitOptions:     waitFrom(c),
				HelmOptions:     helmFrom(c),
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
		Description: "Values, as with helm: without --reuse-values, --reset-values or --reset-then-reuse-values, the current\n" +
			"revision's values are kept when no -f or --set is given, and dropped otherwise. The wiring of\n" +
			"requirements (requires:) is always computed anew. CRDs in crds/ are not upgraded.",
		Flags: flags(kubeFlags(), valuesFlags(), waitFlags(), helmFlags("upgrade"), []ucli.Flag{
			&ucli.BoolFlag{Name: "atomic", Usage: "roll back if the upgrade fails (implies --wait)"},
			progressFlag(),
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate against the cluster and print the manifests; change nothing"},
			&ucli.BoolFlag{Name: "reuse-values", Usage: "apply the given values over the current revision's values and defaults (ignored with --reset-values)"},
			&ucli.BoolFlag{Name: "reset-values", Usage: "start from the bundle's defaults only"},
			&ucli.BoolFlag{Name: "reset-then-reuse-values", Usage: "apply the given values over the current revision's, over the new version's defaults (ignored with --reset-values or --reuse-values)"},
			&ucli.BoolFlag{Name: "force", Usage: "replace resources that cannot be updated in place"},
			&ucli.BoolFlag{Name: "cleanup-on-fail", Usage: "delete the resources this upgrade created if it fails"},
			&ucli.IntFlag{Name: "history-max", Value: 10, Usage: "keep at most this many revisions (0: all)"},
			&ucli.BoolFlag{Name: "install", Aliases: []string{"i"}, Usage: "install the release if it does not exist"},
			&ucli.BoolFlag{Name: "create-namespace", Usage: "with --install, create the namespace if needed"},
			&ucli.BoolFlag{Name: "skip-crds", Usage: "with --install, do not create the CRDs in crds/"},
			&ucli.BoolFlag{Name: "update-deps", Usage: "move requirements to their newest fitting versions (default: keep the installed ones while they fit)"},
		}),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 2, "NAME BUNDLE"); err != nil {
				return err
			}
			if n := c.Int("history-max"); n < 0 {
				return usagef(c, "--history-max %d: give a number of revisions, or 0 to keep all", n)
			}
			src, cl, err := applyFrom(c, "", c.Args().Get(1))
			if err != nil {
				return err
			}
			rel, err := cl.Upgrade(c.Context, release.UpgradeOptions{
				Source:               src,
				ReleaseName:          c.Args().Get(0),
				WaitOptions:          waitFrom(c),
				HelmOptions:          helmFrom(c),
				Atomic:               c.Bool("atomic"),
				DryRun:               c.Bool("dry-run"),
				ReuseValues:          c.Bool("reuse-values"),
				ResetValues:          c.Bool("reset-values"),
				ResetThenReuseValues: c.Bool("reset-then-reuse-values"),
				Force:                c.Bool("force"),
				CleanupOnFail:        c.Bool("cleanup-on-fail"),
				MaxHistory:           c.Int("history-max"),
				Install:              c.Bool("install"),
				CreateNamespace:      c.Bool("create-namespace"),
				UpdateDeps:           c.Bool("update-deps"),
			})
			if err != nil {
				return err
			}
			return printDone(c.App.Writer, "upgraded", rel, c.Bool("dry-run"))
		},
	}
}

// applyFrom checks the flags install and upgrade share and binds what they
// apply: the source (bundle, version, values) and the client of the
// cluster.
func applyFrom(c *ucli.Context, name, ref string) (plan.Source, *release.Client, error) {
	if err := checkHelmFlags(c, name); err != nil {
		return plan.Source{}, nil, err
	}
	if err := positiveTimeout(c); err != nil {
		return plan.Source{}, nil, err
	}
	src, err := sourceFrom(c, ref)
	if err != nil {
		return plan.Source{}, nil, err
	}
	cl, err := client(c)
	return src, cl, err
}

func rollbackCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "rollback",
		Usage:     "restore an earlier revision of a release, app and infrastructure together",
		ArgsUsage: "NAME [REVISION]",
		Flags: flags(kubeFlags(), waitFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "dry-run", Usage: "simulate"},
			progressFlag(),
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
			&ucli.BoolFlag{Name: "delete-data", Usage: "delete the release's persistent volume claims too (kept otherwise)"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "simulate: say what would be deleted and kept"},
		}),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "NAME"); err != nil {
				return err
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			res, err := cl.Uninstall(c.Context, release.UninstallOptions{ReleaseName: c.Args().Get(0), WaitOptions: waitFrom(c),
				KeepHistory: c.Bool("keep-history"), DeleteData: c.Bool("delete-data"), DryRun: c.Bool("dry-run")})
			if err != nil {
				return err
			}
			printUninstalled(c.App.Writer, res)
			return nil
		},
	}
}

// printUninstalled says what uninstall did with the release and its claims:
// the kept ones with the command that deletes them, one line per
// namespace.
func printUninstalled(w io.Writer, res *release.Uninstalled) {
	verb, keep, del := "Uninstalled", "Kept", "Deleted"
	if res.DryRun {
		verb, keep, del = "Would uninstall", "Would keep", "Would delete"
	}
	fmt.Fprintf(w, "%s %q from namespace %q\n", verb, res.Name, res.Namespace)
	if len(res.Deleted) > 0 {
		fmt.Fprintf(w, "%s %s with the data: %s\n", del, plural(len(res.Deleted), "claim"), claimNames(res.Deleted, res.Namespace))
	}
	if len(res.Kept) == 0 {
		return
	}
	them := "them"
	if len(res.Kept) == 1 {
		them = "it"
	}
	if res.DryRun {
		fmt.Fprintf(w, "%s %s with the data (--delete-data deletes %s): %s\n", keep, plural(len(res.Kept), "claim"), them, claimNames(res.Kept, res.Namespace))
		return
	}
	fmt.Fprintf(w, "%s %s with the data: %s\n", keep, plural(len(res.Kept), "claim"), claimNames(res.Kept, res.Namespace))
	var namespaces []string
	byNamespace := map[string][]string{}
	for _, cl := range res.Kept {
		if byNamespace[cl.Namespace] == nil {
			namespaces = append(namespaces, cl.Namespace)
		}
		byNamespace[cl.Namespace] = append(byNamespace[cl.Namespace], cl.Name)
	}
	for _, ns := range namespaces {
		fmt.Fprintf(w, "Delete %s with: kubectl delete pvc -n %s %s\n", them, ns, strings.Join(byNamespace[ns], " "))
	}
}

// plural is "1 claim", "2 claims".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// claimNames lists claims by name, with NAMESPACE/ for those outside ns.
func claimNames(cs []release.Claim, ns string) string {
	names := make([]string, len(cs))
	for i, cl := range cs {
		names[i] = cl.Name
		if cl.Namespace != ns {
			names[i] = cl.String()
		}
	}
	return strings.Join(names, ", ")
}

func listCommand() *ucli.Command {
	return &ucli.Command{
		Name:    "list",
		Aliases: []string{"ls"},
		Usage:   "list releases (bundle and plain Helm ones)",
		Description: "By default only deployed and failed releases are listed, as with helm list;\n" +
			"--all and the state flags (which combine) change that. Releases are sorted\n" +
			"by name; -d sorts by the time of the last deployment, oldest first.",
		Flags: flags(kubeFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "list releases of every namespace"},
			&ucli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list releases in every state"},
			&ucli.BoolFlag{Name: "deployed", Usage: "list deployed releases (the default, with --failed, when no state flag is given)"},
			&ucli.BoolFlag{Name: "failed", Usage: "list failed releases"},
			&ucli.BoolFlag{Name: "pending", Usage: "list pending releases (installing, upgrading, rolling back)"},
			&ucli.BoolFlag{Name: "superseded", Usage: "list superseded revisions"},
			&ucli.BoolFlag{Name: "uninstalled", Usage: "list releases uninstalled with --keep-history"},
			&ucli.BoolFlag{Name: "uninstalling", Usage: "list releases being uninstalled"},
			&ucli.StringFlag{Name: "filter", Aliases: []string{"f"}, Usage: "only names matching this regular expression"},
			&ucli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "label query on the release records, e.g. -l name=wiki,owner=helm"},
			&ucli.BoolFlag{Name: "date", Aliases: []string{"d"}, Usage: "sort by the time of the last deployment"},
			&ucli.BoolFlag{Name: "reverse", Aliases: []string{"r"}, Usage: "reverse the order"},
			&ucli.IntFlag{Name: "max", Aliases: []string{"m"}, Value: 256, Usage: "list at most this many releases (0: all)"},
			&ucli.IntFlag{Name: "offset", Usage: "skip this many releases of the sorted list"},
			&ucli.BoolFlag{Name: "short", Aliases: []string{"q"}, Usage: "print the names only"},
			&ucli.BoolFlag{Name: "no-headers", Usage: "omit the table header"},
			&ucli.StringFlag{Name: "time-format", Usage: `format times with this Go layout, e.g. "2006-01-02 15:04:05Z0700"`},
			outputFlag(),
		}),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 0, "no arguments"); err != nil {
				return err
			}
			if err := checkOutput(c); err != nil {
				return err
			}
			if f := c.String("filter"); f != "" {
				if _, err := regexp.Compile(f); err != nil {
					return usagef(c, "--filter %q: %v (write a regular expression such as '^wiki')", f, err)
				}
			}
			if c.Int("max") < 0 || c.Int("offset") < 0 {
				return usagef(c, "--max %d, --offset %d: must not be negative", c.Int("max"), c.Int("offset"))
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			rels, err := cl.List(c.Context, release.ListOptions{
				AllNamespaces: c.Bool("all-namespaces"),
				All:           c.Bool("all"), Deployed: c.Bool("deployed"), Failed: c.Bool("failed"), Pending: c.Bool("pending"),
				Superseded: c.Bool("superseded"), Uninstalled: c.Bool("uninstalled"), Uninstalling: c.Bool("uninstalling"),
				Filter: c.String("filter"), Selector: c.String("selector"),
				ByDate: c.Bool("date"), Reverse: c.Bool("reverse"),
				Max: c.Int("max"), Offset: c.Int("offset"),
			})
			if err != nil {
				return err
			}
			if c.Bool("short") {
				names := make([]string, 0, len(rels))
				for _, r := range rels {
					names = append(names, r.Name)
				}
				if ok, err := writeData(c, names); ok {
					return err
				}
				for _, n := range names {
					fmt.Fprintln(c.App.Writer, n)
				}
				return nil
			}
			if ok, err := writeData(c, listElements(rels, c.String("time-format"))); ok {
				return err
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			if !c.Bool("no-headers") {
				fmt.Fprintln(tw, "NAME\tNAMESPACE\tREVISION\tSTATUS\tBUNDLE\tAPP VERSION\tUPDATED")
			}
			for _, r := range rels {
				updated := age(r.Updated)
				if layout := c.String("time-format"); layout != "" {
					updated = helmListTime(r.Updated, layout)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, r.Namespace, r.Revision, r.Status, chartName(r), r.AppVersion, updated)
			}
			return tw.Flush()
		},
	}
}

func revisionFlag() ucli.Flag {
	return &ucli.IntFlag{Name: "revision", Usage: "that revision of the release (default: the latest; see bundle history)"}
}

// revisionFrom reads --revision.
func revisionFrom(c *ucli.Context) (int, error) {
	rev := c.Int("revision")
	if c.IsSet("revision") && rev < 1 {
		return 0, usagef(c, "--revision %d: give a revision number from bundle history", rev)
	}
	return rev, nil
}

func statusCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show a release: its resolved bundles and each resource's readiness",
		ArgsUsage: "NAME",
		Flags: flags(kubeFlags(), []ucli.Flag{
			revisionFlag(),
			&ucli.BoolFlag{Name: "show-desc", Usage: "print the revision's description"},
			outputFlag(),
		}),
		Action: func(c *ucli.Context) error {
			rev, err := revisionFrom(c)
			if err != nil {
				return err
			}
			cl, err := readClient(c, 1, "NAME")
			if err != nil {
				return err
			}
			st, err := cl.Status(c.Context, c.Args().Get(0), rev)
			if err != nil {
				return err
			}
			if ok, err := writeData(c, toStatusObject(st)); ok {
				return err
			}
			return printStatus(c.App.Writer, st, c.Bool("show-desc"))
		},
	}
}

func historyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "history",
		Aliases:   []string{"hist"},
		Usage:     "list a release's revisions",
		ArgsUsage: "NAME",
		Flags: flags(kubeFlags(), []ucli.Flag{
			&ucli.IntFlag{Name: "max", Value: 256, Usage: "show at most this many of the latest revisions"},
			outputFlag(),
		}),
		Action: func(c *ucli.Context) error {
			if c.Int("max") < 1 {
				return usagef(c, "--max %d: must be at least 1", c.Int("max"))
			}
			cl, err := readClient(c, 1, "NAME")
			if err != nil {
				return err
			}
			rels, err := cl.History(c.Context, c.Args().Get(0))
			if err != nil {
				return err
			}
			if n := c.Int("max"); len(rels) > n {
				rels = rels[len(rels)-n:]
			}
			if ok, err := writeData(c, historyElements(rels)); ok {
				return err
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tUPDATED\tSTATUS\tBUNDLE\tAPP VERSION\tDESCRIPTION")
			for _, r := range rels {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Revision, age(r.Updated), r.Status, chartName(r), r.AppVersion, r.Description)
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
