package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bundle"
)

func packageCommand() *ucli.Command {
	var destination string
	return withHelp(helpText{
		usage:    "package a bundle directory as NAME-VERSION.tgz, byte-for-byte reproducible (a valid Helm chart archive)",
		args:     "[DIR]",
		examples: "bundle package ./shop -d dist/",
	}, &ucli.Command{
		Name: "package",
		Flags: []ucli.Flag{
			stringFlag(&destination, "destination", ".", "directory to write the archive to", "d"),
		},
		Action: func(c *ucli.Context) error {
			dir, err := optionalDir(c)
			if err != nil {
				return err
			}
			path, digest, err := bundle.PackageDir(dir, destination)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s (%s)\n", path, digest)
			return nil
		},
	})
}
