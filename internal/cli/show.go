package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
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
		if len(crds) > 0 {
			if all && !bytes.HasPrefix(crds[0].File.Data, []byte("---")) {
				fmt.Fprintln(&out, "---")
			}
			for _, crd := range crds {
				fmt.Fprintf(&out, "%s\n", string(crd.File.Data))
			}
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

func searchCommand() *ucli.Command {
	var output outputOption
	var versions bool
	return withHelp(helpText{
		usage: "search the stable catalog and the repositories added (name and description)",
		args:  "[TERM]",
		description: `Each bundle found is listed at its newest version; --versions (-l) lists every version of it,
newest first. The stable catalog holds one version of each bundle.`,
		examples: `bundle search
bundle search redis -o json
# every version of the bundles whose name or description holds "leaf"
bundle search leaf --versions`,
	}, &ucli.Command{
		Name: "search",
		Flags: []ucli.Flag{
			boolFlag(&versions, "versions", "list every version of each bundle found, newest first, not only the newest", "l"),
			output.flag(),
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 1 {
				return usagef(c, "expected at most one TERM, got %d arguments", c.NArg())
			}
			if err := output.check(c); err != nil {
				return err
			}
			term := strings.ToLower(c.Args().Get(0))
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			results, err := repo.Search(c.Context, cfg, repo.SearchOptions{Term: term, Versions: versions})
			if err != nil {
				return err
			}
			// By name; each bundle's versions stay newest first.
			sort.SliceStable(results, func(i, j int) bool { return results[i].Ref < results[j].Ref })
			// helm search repo -o json: [{"name","version","app_version","description"}]
			type entry struct {
				Name        string `json:"name"`
				Version     string `json:"version"`
				AppVersion  string `json:"app_version"`
				Description string `json:"description"`
			}
			entries := make([]entry, 0, len(results))
			for _, r := range results {
				entries = append(entries, entry{r.Ref, r.Version, r.AppVersion, r.Description})
			}
			if ok, err := output.write(c.App.Writer, entries); ok {
				return err
			}
			var rows [][]string
			for _, r := range results {
				rows = append(rows, []string{r.Ref, r.Version, r.AppVersion, r.Description})
			}
			return printTable(c.App.Writer, "BUNDLE\tVERSION\tAPP VERSION\tDESCRIPTION", rows)
		},
	})
}
