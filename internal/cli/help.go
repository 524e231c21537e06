package cli

import (
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

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
