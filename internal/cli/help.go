package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// commandHelp is every command's help, keyed by its path under bundle (""
// is bundle itself): the text lives here, the wiring in the command's own
// file. setupHelp gives each command its entry; every command must have a
// usage line and examples (TestEveryCommandHasExamples), but __complete.
func commandHelp() map[string]helpText {
	return map[string]helpText{
		"get": {
			usage: "show a stored release revision: its values, manifest, notes, hooks or metadata",
			args:  "values|manifest|notes|hooks|metadata|all NAME",
			description: `Reads the release record, as helm get does; nothing in the cluster is
inspected (bundle status shows the resources' readiness).`,
			examples: `bundle get values wiki
bundle get all wiki --revision 2`,
		},
		"get values": {
			usage: "print the values the user supplied (with --all, every value the templates saw)",
			args:  "NAME",
			examples: `bundle get values wiki
# every value the templates saw, as JSON
bundle get values wiki --all -o json`,
		},
		"get manifest": {
			usage: "print the Kubernetes manifests of the release, app and requirements",
			args:  "NAME",
			examples: `bundle get manifest wiki
bundle get manifest wiki --revision 1 > rev1.yaml`,
		},
		"get notes": {
			usage:    "print the release's notes (NOTES.txt as rendered)",
			args:     "NAME",
			examples: "bundle get notes wiki",
		},
		"get hooks": {
			usage:    "print the release's hook manifests (tests included)",
			args:     "NAME",
			examples: "bundle get hooks wiki",
		},
		"get metadata": {
			usage: "print the release's name, bundle, version, status and requirements",
			args:  "NAME",
			examples: `bundle get metadata wiki
bundle get metadata wiki -o json`,
		},
		"get all": {
			usage: "print everything: status, requirements, values, hooks, manifest and notes",
			args:  "NAME",
			examples: `bundle get all wiki
bundle get all wiki -o yaml`,
		},
		"repo": {
			usage: "manage Helm-style chart repositories (index.yaml over http(s))",
			examples: `bundle repo add myrepo https://charts.example.com
bundle repo list`,
		},
		"repo add": {
			usage: "add a repository (its index is fetched and cached)",
			args:  "NAME URL",
			description: `With --username, the password is read from standard input (--password-stdin)
or a prompt, checked against the repository, and kept in a file only you can
read; it is sent over https only, unless --plain-http-credentials.`,
			examples: "bundle repo add myrepo https://charts.example.com",
		},
		"repo list": {
			usage:    "list the repositories added",
			examples: "bundle repo list -o json",
		},
		"repo remove": {
			usage:    "remove a repository",
			args:     "NAME",
			examples: "bundle repo remove myrepo",
		},
		"repo update": {
			usage:    "fetch the latest index of every repository",
			examples: "bundle repo update",
		},
		"repo index": {
			usage:    "write index.yaml for the chart archives in a directory",
			args:     "DIR",
			examples: "bundle repo index ./charts --url https://charts.example.com",
		},
		"help": {
			usage: "show the help of bundle or of a command",
			args:  "[COMMAND [SUBCOMMAND]]",
			examples: `bundle help
bundle help install
bundle help get values`,
		},
	}
}

// helpText is what a command declares of its help, in its own file: its
// usage line, its arguments, a description and an EXAMPLES section.
// Every command has a usage line and examples
// (TestEveryCommandHasExamples), but __complete.
type helpText struct {
	usage, args, description, examples string
}

// withHelp gives cmd the help h declares: the usage line, arguments and
// description urfave renders, then h's EXAMPLES section after urfave's
// template (the one for commands with subcommands when cmd has them, so
// its subcommands are set first).
func withHelp(h helpText, cmd *ucli.Command) *ucli.Command {
	cmd.Usage, cmd.ArgsUsage, cmd.Description = h.usage, h.args, h.description
	base := ucli.CommandHelpTemplate
	if len(cmd.Subcommands) > 0 {
		base = ucli.SubcommandHelpTemplate
	}
	cmd.CustomHelpTemplate = base + examplesSection(h.examples)
	return cmd
}

// appHelpTemplate is bundle --help: urfave's, then the ENVIRONMENT and
// EXAMPLES sections.
func appHelpTemplate(environment, examples string) string {
	return ucli.AppHelpTemplate + section("ENVIRONMENT", environment) + examplesSection(examples)
}

// examplesSection renders an EXAMPLES section as a template fragment.
func examplesSection(text string) string { return section("EXAMPLES", text) }

// section renders a section of help text as a template fragment.
func section(title, text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return "\n" + title + ":\n{{" + strconv.Quote("   "+strings.Join(lines, "\n   ")+"\n") + "}}"
}

// setupHelp gives every command bundle's usage-error handling, and each
// command with subcommands an answer for unknown ones.
func setupHelp(app *ucli.App) {
	help := commandHelp()
	var walk func(prefix string, cmds []*ucli.Command)
	walk = func(prefix string, cmds []*ucli.Command) {
		for _, c := range cmds {
			path := strings.TrimSpace(prefix + " " + c.Name)
			if h, ok := help[path]; ok {
				withHelp(h, c)
			}
			c.OnUsageError = app.OnUsageError
			if len(c.Subcommands) > 0 {
				c.HideHelpCommand = true
				if c.Action == nil {
					c.Action = unknownCommand
				}
				walk(path, c.Subcommands)
			}
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
	return withHelp(helpText{
		usage: "show the help of bundle or of a command",
		args:  "[COMMAND [SUBCOMMAND]]",
		examples: `bundle help
bundle help install
bundle help get values`,
	}, &ucli.Command{
		Name: "help",
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
	})
}
