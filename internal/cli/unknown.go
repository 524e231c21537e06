package cli

import (
	"fmt"
	"sort"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// setupCommands gives every command bundle's usage-error handling, and each
// command with subcommands an answer for unknown ones.
func setupCommands(app *ucli.App) {
	var walk func(cmds []*ucli.Command)
	walk = func(cmds []*ucli.Command) {
		for _, c := range cmds {
			c.OnUsageError = app.OnUsageError
			if len(c.Subcommands) > 0 {
				c.HideHelpCommand = true
				if c.Action == nil {
					c.Action = unknownCommand
				}
				walk(c.Subcommands)
			}
		}
	}
	walk(app.Commands)
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
