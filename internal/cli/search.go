package cli

import (
	"sort"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/repo"
)

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
