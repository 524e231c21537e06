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
		"lock": {
			usage: "resolve a bundle's requirements and write bundle.lock (versions, content digests, image digests)",
			args:  "[DIR|ARCHIVE]",
			description: `DIR defaults to the current directory. A chart archive (.tgz) is never
rewritten: its lock is printed, or checked with --check.

The lock also records every container image the resolved bundles run with
their default values (hooks included), each tag with the digest its registry
serves now (a multi-platform image: its index's digest), so that --locked
renders every image as REPOSITORY@sha256:... on any cluster. Registries are
asked with the logins of bundle login and docker login. --check fails when a
tag now resolves to another digest. --skip-images asks no registry: the
images already locked stay as they are, unchecked.`,
			examples: `# write bundle.lock for the bundle in the current directory
bundle lock
bundle lock --check ./shop
# offline: lock the bundles only
bundle lock --skip-images`,
		},
		"update": {
			usage: "move locked requirements to their newest fitting versions and rewrite bundle.lock",
			args:  "[DIR|ARCHIVE] [BUNDLE...]",
			description: `With no BUNDLE every locked bundle may move; otherwise only the named ones.
DIR defaults to the current directory.`,
			examples: `bundle update
# move only mariadb to its newest fitting version
bundle update ./shop mariadb`,
		},
		"deps": {
			usage: "show the resolved requirement tree: versions, constraints and who imposed them",
			args:  "[DIR|ARCHIVE|BUNDLE]",
			description: `-o dot and -o mermaid draw the tree as a graph (Graphviz, Mermaid): bundles and requirement
instances as nodes, requirements as edges labelled with their constraints.`,
			examples: `bundle deps stable/mediawiki
bundle deps ./shop -o json
bundle deps ./shop -o dot | dot -Tsvg > deps.svg`,
		},
		"package": {
			usage:    "package a bundle directory as NAME-VERSION.tgz, byte-for-byte reproducible (a valid Helm chart archive)",
			args:     "[DIR]",
			examples: "bundle package ./shop -d dist/",
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
		"push": {
			usage:    "push a bundle (a .tgz package or a directory) to an OCI registry, as a Helm OCI chart",
			args:     "PACKAGE|DIR oci://HOST/NAMESPACE",
			examples: "bundle push shop-0.1.0.tgz oci://registry.example.com/bundles",
		},
		"pull": {
			usage: "download a bundle (a chart archive) from a repository or an OCI registry",
			args:  "REPO/NAME | oci://HOST/NAMESPACE/NAME[@sha256:DIGEST]",
			description: `Writes NAME-VERSION.tgz into --destination, or the bundle's files with --untar.
Works for the stable catalog (stable/NAME), added repositories (REPO/NAME)
and OCI registries.`,
			examples: `bundle pull oci://registry.example.com/bundles/shop --version ^0.1
bundle pull oci://registry.example.com/bundles/shop --untar -d ./shop`,
		},
		"login": {
			usage:    "log in to an OCI registry (stored as docker login stores it)",
			args:     "HOST",
			examples: "echo \"$TOKEN\" | bundle login registry.example.com -u ci --password-stdin",
		},
		"logout": {
			usage:    "forget the login for an OCI registry",
			args:     "HOST",
			examples: "bundle logout registry.example.com",
		},
		"show": {
			usage: "show a bundle: its summary, or its chart, values, readme, crds, outputs or requirements",
			args:  "BUNDLE [all|chart|values|readme|crds|outputs|requires]",
			description: `With no section, a summary: name, versions, requirements and outputs.
Helm's order works too: bundle show values stable/mariadb.`,
			examples: `bundle show stable/mediawiki
bundle show stable/mediawiki values`,
		},
		"search": {
			usage: "search the stable catalog and the repositories added (name and description)",
			args:  "[TERM]",
			description: `Each bundle found is listed at its newest version; --versions (-l) lists every version of it,
newest first. The stable catalog holds one version of each bundle.`,
			examples: `bundle search
bundle search redis -o json
# every version of the bundles whose name or description holds "leaf"
bundle search leaf --versions`,
		},
		"version": {
			usage: "print the versions of bundle, the Helm SDK, the Kubernetes client and Go it was built with",
			examples: `bundle version
bundle version --short
bundle version -o json`,
		},
		"completion": {
			usage: "print the shell completion script for bash, zsh, fish or powershell",
			args:  "bash|zsh|fish|powershell",
			description: `Completes commands, flags, -o values, release names (from the cluster) and
bundle references (from the catalog and the repositories added).`,
			examples: `# load in the current bash session, or for good from ~/.bashrc
source <(bundle completion bash)
bundle completion zsh > "${fpath[1]}/_bundle"
bundle completion fish > ~/.config/fish/completions/bundle.fish
bundle completion powershell | Out-String | Invoke-Expression`,
		},
		"__complete": {
			usage: "print completion candidates (used by the scripts of bundle completion)",
			args:  "cur=WORD [WORDS...]",
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
	return &ucli.Command{
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
	}
}
