package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// reorder moves a command's flags in front of its positional arguments, so
// that "bundle install stable/mediawiki --wait" works as users of helm and
// kubectl expect (urfave/cli v2 stops parsing flags at the first argument).
// Everything after "--" is left alone. A --help or -h anywhere among the
// command's flags (not as another flag's value) asks for its help, as in
// helm: the command line becomes "bundle CMD --help", which urfave would
// otherwise answer with "No help topic for" the first argument.
//
// bundle's own flags may come before the command (bundle --debug install
// ...): they are all boolean, so the command is the first argument that
// is no flag.
func reorder(app *ucli.App, args []string) []string {
	at := 1
	for at < len(args) && len(args[at]) > 1 && strings.HasPrefix(args[at], "-") && args[at] != "--" {
		at++
	}
	if at >= len(args) {
		return args
	}
	cmd := app.Command(args[at])
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	head := at + 1
	if len(cmd.Subcommands) > 0 && len(args) > head {
		if sub := cmd.Command(args[head]); sub != nil {
			cmd, head = sub, head+1
		}
	}
	takes := map[string]bool{}
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			takes[n] = takesValue(f)
		}
	}
	var fl, pos []string
	rest := args[head:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			name := strings.TrimLeft(a, "-")
			if isHelpFlag(name) {
				return append(append([]string(nil), args[:head]...), "--help")
			}
			fl = append(fl, a)
			if !strings.Contains(name, "=") && takes[name] && i+1 < len(rest) {
				fl = append(fl, rest[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append(append([]string(nil), args[:head]...), fl...)
	return append(out, pos...)
}

// isHelpFlag reports whether a flag, its dashes trimmed, asks for help:
// help or h, alone or =true.
func isHelpFlag(name string) bool {
	name, val, hasVal := strings.Cut(name, "=")
	return (name == "help" || name == "h") && (!hasVal || val == "true")
}
