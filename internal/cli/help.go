package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// commandExamples holds each command's EXAMPLES section, keyed by its path
// under bundle ("" is bundle itself). Every command and subcommand must
// have one (TestEveryCommandHasExamples).
func commandExamples() map[string]string {
	return map[string]string{
		"": `# install a bundle with its infrastructure, then look at it
bundle install wiki stable/mediawiki --wait
bundle status wiki
bundle help install`,
		"template": `# render the manifests of a catalog bundle and its requirements
bundle template wiki stable/mediawiki --set wiki.name=Docs
# a bundle in a directory, one file per template
bundle template ./shop --output-dir out/`,
		"install": `bundle install wiki stable/mediawiki -n team --create-namespace --wait
bundle install ./shop -f prod.yaml --set replicas=3 --atomic
# validate against the cluster and print the manifests, changing nothing
bundle install wiki stable/mediawiki --dry-run`,
		"upgrade": `bundle upgrade wiki stable/mediawiki --set wiki.name="Team Wiki" --wait
# install when missing, keep the values set before
bundle upgrade --install --reuse-values wiki stable/mediawiki`,
		"rollback": `# back to the previous revision, app and infrastructure together
bundle rollback wiki
bundle rollback wiki 2 --wait`,
		"uninstall": `bundle uninstall wiki --wait
bundle uninstall wiki --keep-history`,
		"list": `bundle list
bundle list -A --all
bundle list --failed --pending -o json
bundle list -f '^wiki' -d -r -m 10
bundle list -q`,
		"status": `bundle status wiki
bundle status wiki --revision 2 --show-desc
bundle status wiki -o yaml`,
		"history": `bundle history wiki
bundle history wiki --max 5 -o json`,
		"get": `bundle get values wiki
bundle get all wiki --revision 2`,
		"get values": `bundle get values wiki
# every value the templates saw, as JSON
bundle get values wiki --all -o json`,
		"get manifest": `bundle get manifest wiki
bundle get manifest wiki --revision 1 > rev1.yaml`,
		"get notes": `bundle get notes wiki`,
		"get hooks": `bundle get hooks wiki`,
		"get metadata": `bundle get metadata wiki
bundle get metadata wiki -o json`,
		"get all": `bundle get all wiki
bundle get all wiki -o yaml`,
		"test": `bundle test wiki
bundle test wiki --logs --timeout 2m
bundle test wiki --filter name=wiki-test-connection`,
		"lock": `# write bundle.lock for the bundle in the current directory
bundle lock
bundle lock --check ./shop`,
		"update": `bundle update
# move only mariadb to its newest fitting version
bundle update ./shop mariadb`,
		"deps": `bundle deps stable/mediawiki
bundle deps ./shop -o json`,
		"package": `bundle package ./shop -d dist/`,
		"repo": `bundle repo add myrepo https://charts.example.com
bundle repo list`,
		"repo add":    `bundle repo add myrepo https://charts.example.com`,
		"repo list":   `bundle repo list -o json`,
		"repo remove": `bundle repo remove myrepo`,
		"repo update": `bundle repo update`,
		"repo index":  `bundle repo index ./charts --url https://charts.example.com`,
		"push":        `bundle push shop-0.1.0.tgz oci://registry.example.com/bundles`,
		"pull": `bundle pull oci://registry.example.com/bundles/shop --version ^0.1
bundle pull oci://registry.example.com/bundles/shop --untar -d ./shop`,
		"login":  `echo "$TOKEN" | bundle login registry.example.com -u ci --password-stdin`,
		"logout": `bundle logout registry.example.com`,
		"show": `bundle show stable/mediawiki
bundle show stable/mediawiki values`,
		"lint": `bundle lint
bundle lint ./shop`,
		"search": `bundle search
bundle search redis -o json`,
		"version": `bundle version
bundle version --short
bundle version -o json`,
		"completion": `# load in the current bash session, or for good from ~/.bashrc
source <(bundle completion bash)
bundle completion zsh > "${fpath[1]}/_bundle"
bundle completion fish > ~/.config/fish/completions/bundle.fish
bundle completion powershell | Out-String | Invoke-Expression`,
		"help": `bundle help
bundle help install
bundle help get values`,
	}
}

// examplesSection renders an EXAMPLES section as a template fragment.
func examplesSection(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return "\nEXAMPLES:\n{{" + strconv.Quote("   "+strings.Join(lines, "\n   ")+"\n") + "}}"
}

// setupHelp gives every command its examples and usage-error handling, and
// each command with subcommands an answer for unknown ones.
func setupHelp(app *ucli.App) {
	ex := commandExamples()
	app.CustomAppHelpTemplate = ucli.AppHelpTemplate + examplesSection(ex[""])
	var walk func(prefix string, cmds []*ucli.Command)
	walk = func(prefix string, cmds []*ucli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			c.OnUsageError = app.OnUsageError
			base := ucli.CommandHelpTemplate
			if len(c.Subcommands) > 0 {
				base = ucli.SubcommandHelpTemplate
				c.HideHelpCommand = true
				if c.Action == nil {
					c.Action = unknownCommand
				}
				walk(path, c.Subcommands)
			}
			c.CustomHelpTemplate = base + examplesSection(ex[path])
		}
	}
	walk("", app.Commands)
}

// commandPath is "bundle", "bundle install" or "bundle get values".
func commandPath(c *ucli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" {
		return c.Command.HelpName
	}
	if c.Command != nil && c.Command.Name != "" {
		return c.App.Name + " " + c.Command.Name
	}
	return c.App.Name
}

// unknownCommand is the action of bundle and of each command with
// subcommands: without arguments it shows the help; otherwise the first
// argument named no subcommand.
func unknownCommand(c *ucli.Context) error {
	if c.NArg() == 0 {
		if c.Command == nil || c.Command.HelpName == c.App.HelpName {
			return ucli.ShowAppHelp(c)
		}
		return ucli.ShowSubcommandHelp(c)
	}
	cands := c.App.Commands
	if c.Command != nil && len(c.Command.Subcommands) > 0 {
		cands = c.Command.Subcommands
	}
	return unknownCommandError(commandPath(c), c.Args().First(), cands)
}

func unknownCommandError(path, name string, cands []*ucli.Command) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, path)
	if s := suggestCommand(name, cands); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += fmt.Sprintf(" (see %s --help)", path)
	}
	return &usageError{msg: msg}
}

// suggestCommand returns the visible command whose name (or alias) is
// closest to name: at most two edits away, or starting with it.
func suggestCommand(name string, cands []*ucli.Command) string {
	type match struct {
		cmd  string
		dist int
	}
	var best []match
	for _, c := range cands {
		if c.Hidden {
			continue
		}
		d := -1
		for _, n := range c.Names() {
			e := editDistance(strings.ToLower(name), n)
			if len(name) >= 2 && strings.HasPrefix(n, strings.ToLower(name)) {
				e = min(e, 1)
			}
			if d < 0 || e < d {
				d = e
			}
		}
		if d <= 2 {
			best = append(best, match{c.Name, d})
		}
	}
	if len(best) == 0 {
		return ""
	}
	sort.Slice(best, func(i, j int) bool {
		if best[i].dist != best[j].dist {
			return best[i].dist < best[j].dist
		}
		return best[i].cmd < best[j].cmd
	})
	return best[0].cmd
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of adjacent letters that turn a into b (optimal string alignment), so
// that "tset" is one edit from "test".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func helpCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "help",
		Usage:     "show the help of bundle or of a command",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return ucli.ShowAppHelp(c)
			}
			path := []string{c.App.Name}
			cands := c.App.Commands
			for _, a := range c.Args().Slice() {
				var found *ucli.Command
				for _, cmd := range cands {
					if cmd.HasName(a) {
						found = cmd
						break
					}
				}
				if found == nil {
					return unknownCommandError(strings.Join(path, " "), a, cands)
				}
				path = append(path, found.Name)
				cands = found.Subcommands
			}
			// The command's own --help prints exactly what it prints.
			return c.App.RunContext(c.Context, append(path, "--help"))
		},
	}
}
