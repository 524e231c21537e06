package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/release"
)

// getOptions are the flags of the get subcommands.
type getOptions struct {
	readOptions
	revisionOption
	all bool
}

// flags are the cluster, --revision, and -o when the subcommand has it.
func (o *getOptions) flags(output bool) []ucli.Flag {
	fs := flags(o.kube.flags(), []ucli.Flag{o.revisionOption.flag()})
	if output {
		fs = append(fs, o.output.flag())
	}
	return fs
}

// get reads NAME and --revision and returns the revision.
func (o *getOptions) get(c *ucli.Context) (*release.Details, error) {
	if err := o.revisionOption.check(c); err != nil {
		return nil, err
	}
	cl, err := o.client(c, 1, "NAME")
	if err != nil {
		return nil, err
	}
	return cl.Get(c.Context, c.Args().Get(0), o.revision)
}

func getCommand() *ucli.Command {
	values, meta, all := &getOptions{}, &getOptions{}, &getOptions{}
	return withHelp(helpText{
		usage: "show a stored release revision: its values, manifest, notes, hooks or metadata",
		args:  "values|manifest|notes|hooks|metadata|all NAME",
		description: `Reads the release record, as helm get does; nothing in the cluster is
inspected (bundle status shows the resources' readiness).`,
		examples: `bundle get values wiki
bundle get all wiki --revision 2`,
	}, &ucli.Command{
		Name: "get",
		Subcommands: []*ucli.Command{
			withHelp(helpText{
				usage: "print the values the user supplied (with --all, every value the templates saw)",
				args:  "NAME",
				examples: `bundle get values wiki
# every value the templates saw, as JSON
bundle get values wiki --all -o json`,
			}, &ucli.Command{
				Name: "values",
				Flags: append(values.flags(true),
					boolFlag(&values.all, "all", "print the computed values: the bundle's defaults merged with the user's", "a")),
				Action: values.getValues,
			}),
			getText("manifest", helpText{
				usage: "print the Kubernetes manifests of the release, app and requirements",
				args:  "NAME",
				examples: `bundle get manifest wiki
bundle get manifest wiki --revision 1 > rev1.yaml`,
			}, func(w io.Writer, d *release.Details) {
				fmt.Fprintln(w, d.Manifest)
			}),
			getText("notes", helpText{
				usage:    "print the release's notes (NOTES.txt as rendered)",
				args:     "NAME",
				examples: "bundle get notes wiki",
			}, func(w io.Writer, d *release.Details) {
				if d.Notes != "" {
					fmt.Fprintf(w, "NOTES:\n%s\n", d.Notes)
				}
			}),
			getText("hooks", helpText{
				usage:    "print the release's hook manifests (tests included)",
				args:     "NAME",
				examples: "bundle get hooks wiki",
			}, func(w io.Writer, d *release.Details) {
				printHooks(w, d.Hooks)
			}),
			withHelp(helpText{
				usage: "print the release's name, bundle, version, status and requirements",
				args:  "NAME",
				examples: `bundle get metadata wiki
bundle get metadata wiki -o json`,
			}, &ucli.Command{
				Name:   "metadata",
				Flags:  meta.flags(true),
				Action: meta.getMetadata,
			}),
			withHelp(helpText{
				usage: "print everything: status, requirements, values, hooks, manifest and notes",
				args:  "NAME",
				examples: `bundle get all wiki
bundle get all wiki -o yaml`,
			}, &ucli.Command{
				Name:   "all",
				Flags:  all.flags(true),
				Action: all.getAll,
			}),
		},
	})
}

func (o *getOptions) getValues(c *ucli.Context) error {
	d, err := o.get(c)
	if err != nil {
		return err
	}
	// get values prints exactly what helm get values prints (scripts and
	// users compare them): the values stored, the wiring bundle computed
	// under requires: included. get all and status show the wiring apart.
	vals, title := d.Values, "USER-SUPPLIED VALUES:"
	if o.all {
		vals, title = d.ComputedValues, "COMPUTED VALUES:"
	}
	if ok, err := o.output.write(c.App.Writer, vals); ok {
		return err
	}
	fmt.Fprintln(c.App.Writer, title)
	return writeYAML(c.App.Writer, vals)
}

// printValuesWiring prints what bundle computed into a release's values, apart
// from the user's, if anything.
func printValuesWiring(w io.Writer, wiring map[string]any) error {
	if len(wiring) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nWIRING (computed by bundle, not given: the requirements' outputs under requires:):")
	return writeYAML(w, wiring)
}

func (o *getOptions) getMetadata(c *ucli.Context) error {
	d, err := o.get(c)
	if err != nil {
		return err
	}
	m := toMetadataObject(d)
	if ok, err := o.output.write(c.App.Writer, m); ok {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "NAME: %s\nCHART: %s\nVERSION: %s\nAPP_VERSION: %s\n", m.Name, m.Chart, m.Version, m.AppVersion)
	fmt.Fprintf(w, "ANNOTATIONS: %s\n", labelString(m.Annotations))
	var deps []string
	for _, dep := range m.Dependencies {
		deps = append(deps, dep.Name)
	}
	sort.Strings(deps)
	fmt.Fprintf(w, "DEPENDENCIES: %s\n", strings.Join(deps, ","))
	fmt.Fprintf(w, "NAMESPACE: %s\nREVISION: %d\nSTATUS: %s\nDEPLOYED_AT: %s\n", m.Namespace, m.Revision, m.Status, m.DeployedAt)
	printResolved(w, d.Release)
	return nil
}

func (o *getOptions) getAll(c *ucli.Context) error {
	d, err := o.get(c)
	if err != nil {
		return err
	}
	if ok, err := o.output.write(c.App.Writer, toReleaseObject(d)); ok {
		return err
	}
	return printAll(c.App.Writer, d)
}

// printHooks prints hook manifests as helm get hooks does.
func printHooks(w io.Writer, hooks []release.Hook) {
	for _, h := range hooks {
		fmt.Fprintf(w, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
}

// printResolved lists a bundle release's resolved requirements, if any.
func printResolved(w io.Writer, r *release.Release) {
	if len(r.Resolved) == 0 {
		return
	}
	fmt.Fprintln(w, "REQUIRES:")
	for _, d := range r.Resolved {
		if !d.Installed() {
			fmt.Fprintf(w, "  %s: %s %s %s\n", d.Instance, d.Bundle, d.Version, requirementSource(d))
			continue
		}
		fmt.Fprintf(w, "  %s: %s %s from %s\n", d.Instance, d.Bundle, d.Version, d.Repository)
	}
}

// printAll is helm get all's layout, with the requirements after the
// chart.
func printAll(w io.Writer, d *release.Details) error {
	fmt.Fprintf(w, "NAME: %s\n", d.Name)
	if !d.Updated.IsZero() {
		fmt.Fprintf(w, "LAST DEPLOYED: %s\n", d.Updated.Format(time.ANSIC))
	}
	fmt.Fprintf(w, "NAMESPACE: %s\nSTATUS: %s\nREVISION: %d\n", d.Namespace, d.Status, d.Revision)
	fmt.Fprintf(w, "CHART: %s\nVERSION: %s\nAPP_VERSION: %s\n", d.Chart.Name, d.Chart.Version, d.Chart.AppVersion)
	printResolved(w, d.Release)
	printTestSuite(w, d.Hooks)
	fmt.Fprintln(w, "USER-SUPPLIED VALUES:")
	if err := writeYAML(w, d.UserValues); err != nil {
		return err
	}
	if err := printValuesWiring(w, d.Wiring); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCOMPUTED VALUES:")
	if err := writeYAML(w, d.ComputedValues); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nHOOKS:")
	printHooks(w, d.Hooks)
	fmt.Fprintf(w, "MANIFEST:\n%s\n", d.Manifest)
	if n := strings.TrimSpace(d.Notes); n != "" {
		fmt.Fprintf(w, "\nNOTES:\n%s\n", n)
	}
	return nil
}

// labelString prints a map as Kubernetes prints label sets: k=v,k=v sorted.
func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// getText is a get subcommand, with the help h, that prints part of a
// revision as text, as helm get does.
func getText(name string, h helpText, print func(io.Writer, *release.Details)) *ucli.Command {
	o := &getOptions{}
	return withHelp(h, &ucli.Command{
		Name:  name,
		Flags: o.flags(false),
		Action: func(c *ucli.Context) error {
			d, err := o.get(c)
			if err != nil {
				return err
			}
			print(c.App.Writer, d)
			return nil
		},
	})
}
