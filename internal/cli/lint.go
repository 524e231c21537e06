package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/lint"
)

// lintOptions are bundle lint's flags.
type lintOptions struct {
	source sourceOptions
	strict bool
}

func lintCommand() *ucli.Command {
	o := &lintOptions{}
	return command("lint", helpText{
		usage: "check a bundle with Helm's linter and bundle's rules (pinned images, requests, probes, non-root, outputs, schema, README, NOTES)",
		args:  "[BUNDLE] (default: the current directory)",
		examples: `bundle lint
bundle lint ./shop`,
	}, o.run, append(o.source.vals.flags(),
		stringFlag(&o.source.version, "version", "", "version constraint for a bundle from a repository (default: newest)"),
		boolFlag(&o.strict, "strict", "fail on warnings too"),
		o.source.registry.plainHTTPFlag(),
		o.source.registry.insecureFlag(),
	))
}

func (o *lintOptions) run(c *ucli.Context) error {
	if c.NArg() > 1 {
		return usagef(c, "expected at most one BUNDLE, got %d arguments", c.NArg())
	}
	arg := c.Args().First()
	if arg == "" {
		arg = "."
	}
	opts, err := o.source.vals.values(c)
	if err != nil {
		return err
	}
	vals, err := opts.Merge()
	if err != nil {
		return err
	}
	set, b, err := loadBundle(c, o.source.registry, arg, o.source.version)
	if err != nil {
		return err
	}
	fs, err := lint.Bundle(c.Context, set, b, lint.Options{Values: vals})
	if err != nil {
		return err
	}
	for _, f := range fs {
		fmt.Fprintln(c.App.Writer, f)
	}
	errors := lint.Errors(fs)
	warnings := len(fs) - errors
	fmt.Fprintf(c.App.Writer, "%s: %d error(s), %d warning(s)\n", b, errors, warnings)
	switch {
	case errors > 0:
		return fmt.Errorf("%s: lint found %d error(s) (listed above)", b, errors)
	case warnings > 0 && o.strict:
		return fmt.Errorf("%s: lint found %d warning(s) and --strict is set (listed above)", b, warnings)
	}
	return nil
}
