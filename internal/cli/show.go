package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/repo"
)

// showSections are what bundle show prints besides the summary: Helm's
// (all, chart, values, readme, crds) and bundle's own (outputs, requires).
var showSections = []string{"all", "chart", "values", "readme", "crds", "outputs", "requires"}

func showCommand() *ucli.Command {
	var registry registryOptions
	var version string
	return withHelp(helpText{
		usage: "show a bundle: its summary, or its chart, values, readme, crds, outputs or requirements",
		args:  "BUNDLE [all|chart|values|readme|crds|outputs|requires]",
		description: `With no section, a summary: name, versions, requirements and outputs.
Helm's order works too: bundle show values stable/mariadb.`,
		examples: `bundle show stable/mediawiki
bundle show stable/mediawiki values`,
	}, &ucli.Command{
		Name:  "show",
		Flags: append([]ucli.Flag{stringFlag(&version, "version", "", "version constraint (default: newest)")}, registry.flags()...),
		Action: func(c *ucli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return usagef(c, "expected BUNDLE [%s], got %d arguments", strings.Join(showSections, "|"), c.NArg())
			}
			ref, what := c.Args().Get(0), ""
			if c.NArg() == 2 {
				what = c.Args().Get(1)
				// helm show SECTION CHART
				if slices.Contains(showSections, ref) && !slices.Contains(showSections, what) {
					ref, what = what, ref
				}
				if !slices.Contains(showSections, what) {
					return usagef(c, "%q: show one of %s", what, strings.Join(showSections, ", "))
				}
			}
			_, b, err := loadBundle(c, registry, ref, version)
			if err != nil {
				return err
			}
			w := c.App.Writer
			switch what {
			case "all", "chart", "values", "readme", "crds":
				return helmShow(w, b, what)
			case "outputs":
				return printOutputs(w, b)
			case "requires":
				return printRequires(w, b)
			}
			fmt.Fprintf(w, "%s %s (app %s)\n%s\n\n", b.Name, b.Version, b.AppVersion, b.Description)
			if err := printRequires(w, b); err != nil {
				return err
			}
			fmt.Fprintln(w)
			return printOutputs(w, b)
		},
	})
}

// helmShow prints what helm show SECTION prints, byte for byte: Chart.yaml's
// metadata, values.yaml, the README, the CRDs, or all four between ---.
func helmShow(w io.Writer, b *bundle.Bundle, what string) error {
	all := what == "all"
	var out strings.Builder
	if what == "chart" || all {
		cf, err := yaml.Marshal(b.Chart.Metadata)
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%s\n", cf)
	}
	if (what == "values" || all) && b.Chart.Values != nil {
		if all {
			fmt.Fprintln(&out, "---")
		}
		if data, ok := b.ReadFile(bundle.ValuesFileName); ok {
			fmt.Fprintln(&out, string(data))
		}
	}
	if what == "readme" || all {
		if readme := findReadme(b); readme != nil {
			if all {
				fmt.Fprintln(&out, "---")
			}
			fmt.Fprintf(&out, "%s\n", readme)
		}
	}
	if what == "crds" || all {
		crds := b.Chart.CRDObjects()
		// As helm 4: every CRD after a --- line (helm 3 printed the
		// first without one, unless all).
		for _, crd := range crds {
			if !bytes.HasPrefix(crd.File.Data, []byte("---")) {
				fmt.Fprintln(&out, "---")
			}
			fmt.Fprintf(&out, "%s\n", string(crd.File.Data))
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// findReadme finds the README as Helm does: README.md, README.txt or
// README at the top, in any case.
func findReadme(b *bundle.Bundle) []byte {
	for _, f := range b.Chart.Files {
		for _, n := range []string{"readme.md", "readme.txt", "readme"} {
			if strings.EqualFold(f.Name, n) {
				return f.Data
			}
		}
	}
	return nil
}

// loadBundle loads the bundle arg names (REPO/NAME, a directory, an oci://
// reference) at the --version constraint, through the configured repositories.
func loadBundle(c *ucli.Context, registry registryOptions, arg, version string) (*repo.Set, *bundle.Bundle, error) {
	set, err := registry.repos(c)
	if err != nil {
		return nil, nil, err
	}
	ref, err := repo.ParseReference(arg)
	if err != nil {
		return nil, nil, err
	}
	con, err := versionConstraint(version)
	if err != nil {
		return nil, nil, err
	}
	b, err := set.LoadReference(c.Context, ref, con)
	return set, b, err
}

func printOutputs(w io.Writer, b *bundle.Bundle) error {
	if len(b.File.Outputs) == 0 {
		fmt.Fprintf(w, "OUTPUTS: none\n")
		return nil
	}
	var rows [][]string
	for _, o := range b.File.Outputs {
		rows = append(rows, []string{o.Name, strings.TrimSpace(o.Template)})
	}
	return printTable(w, "OUTPUT\tTEMPLATE", rows)
}

func printRequires(w io.Writer, b *bundle.Bundle) error {
	if len(b.File.Requires) == 0 {
		fmt.Fprintf(w, "REQUIRES: nothing\n")
		return nil
	}
	var rows [][]string
	for _, r := range b.File.Requires {
		rows = append(rows, []string{r.Name, r.Bundle, r.Version, r.Repository, strings.Join(r.Outputs, ", ")})
	}
	return printTable(w, "INSTANCE\tBUNDLE\tVERSION\tREPOSITORY\tOUTPUTS USED", rows)
}
