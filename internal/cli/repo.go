package cli

import (
	"fmt"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/repo"
)

// repoAddOptions are bundle repo add's flags.
type repoAddOptions struct {
	user      credentialOptions
	plainHTTP bool
}

func repoCommand() *ucli.Command {
	add := &repoAddOptions{}
	var list outputOption
	var indexURL string
	return withHelp(helpText{
		usage: "manage Helm-style chart repositories (index.yaml over http(s))",
		examples: `bundle repo add myrepo https://charts.example.com
bundle repo list`,
	}, &ucli.Command{
		Name: "repo",
		Subcommands: []*ucli.Command{
			withHelp(helpText{
				usage: "add a repository (its index is fetched and cached)",
				args:  "NAME URL",
				description: `With --username, the password is read from standard input (--password-stdin)
or a prompt, checked against the repository, and kept in a file only you can
read; it is sent over https only, unless --plain-http-credentials.`,
				examples: "bundle repo add myrepo https://charts.example.com",
			}, &ucli.Command{
				Name: "add",
				Flags: append(add.user.flags("user name for the repository (HTTP basic authentication)"),
					boolFlag(&add.plainHTTP, "plain-http-credentials", "allow sending the credentials over plain http, readable on the way (https is required otherwise)")),
				Action: func(c *ucli.Context) error {
					if err := exactArgs(c, 2, "NAME URL"); err != nil {
						return err
					}
					name, url := c.Args().Get(0), c.Args().Get(1)
					cfg, err := loadConfig(c)
					if err != nil {
						return err
					}
					opts := repo.HTTPOptions{}
					switch user := add.user.username; {
					case user != "":
						if _, had := bundle.StripCredentials(url); had {
							break // refused below, before asking for a password
						}
						password, err := add.user.password(c)
						if err != nil {
							return err
						}
						opts.Auth = &repo.BasicAuth{Username: user, Password: password, PlainHTTP: add.plainHTTP}
					case add.user.passwordStdin:
						return usagef(c, "--password-stdin needs --username")
					case add.plainHTTP:
						return usagef(c, "--plain-http-credentials needs --username")
					}
					if err := cfg.Add(c.Context, name, url, opts); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%q has been added\n", c.Args().Get(0))
					return nil
				},
			}),
			withHelp(helpText{
				usage:    "list the repositories added",
				examples: "bundle repo list -o json",
			}, &ucli.Command{
				Name:    "list",
				Aliases: []string{"ls"},
				Flags:   []ucli.Flag{list.flag()},
				Action: func(c *ucli.Context) error {
					if err := list.check(c); err != nil {
						return err
					}
					cfg, err := loadConfig(c)
					if err != nil {
						return err
					}
					// helm repo list -o json: [{"name","url"}]; the built-in
					// catalog is listed in the table only.
					// The user name is shown, never the password.
					type entry struct {
						Name     string `json:"name"`
						URL      string `json:"url"`
						Username string `json:"username,omitempty"`
					}
					entries := make([]entry, 0, len(cfg.Repositories))
					for _, e := range cfg.Repositories {
						entries = append(entries, entry{e.Name, e.URL, e.Username})
					}
					if ok, err := list.write(c.App.Writer, entries); ok {
						return err
					}
					rows := [][]string{{"stable", "(built in)", ""}}
					for _, e := range entries {
						rows = append(rows, []string{e.Name, e.URL, e.Username})
					}
					return printTable(c.App.Writer, "NAME\tURL\tUSER", rows)
				},
			}),
			withHelp(helpText{
				usage:    "remove a repository",
				args:     "NAME",
				examples: "bundle repo remove myrepo",
			}, &ucli.Command{
				Name: "remove",
				Action: func(c *ucli.Context) error {
					if err := exactArgs(c, 1, "NAME"); err != nil {
						return err
					}
					cfg, err := loadConfig(c)
					if err != nil {
						return err
					}
					if err := cfg.Remove(c.Args().Get(0)); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "%q has been removed\n", c.Args().Get(0))
					return nil
				},
			}),
			withHelp(helpText{
				usage:    "fetch the latest index of every repository",
				examples: "bundle repo update",
			}, &ucli.Command{
				Name: "update",
				Action: func(c *ucli.Context) error {
					cfg, err := loadConfig(c)
					if err != nil {
						return err
					}
					if err := cfg.Update(c.Context, repo.HTTPOptions{}); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "updated %d repositories\n", len(cfg.Repositories))
					return nil
				},
			}),
			withHelp(helpText{
				usage:    "write index.yaml for the chart archives in a directory",
				args:     "DIR",
				examples: "bundle repo index ./charts --url https://charts.example.com",
			}, &ucli.Command{
				Name: "index",
				Flags: []ucli.Flag{
					stringFlag(&indexURL, "url", "", "address the directory will be served at (archive URLs are made absolute)"),
				},
				Action: func(c *ucli.Context) error {
					if err := exactArgs(c, 1, "DIR"); err != nil {
						return err
					}
					dir := c.Args().Get(0)
					idx, err := repo.IndexDir(dir, indexURL)
					if err != nil {
						return err
					}
					data, err := idx.Marshal()
					if err != nil {
						return err
					}
					path := filepath.Join(dir, "index.yaml")
					if err := os.WriteFile(path, data, 0o644); err != nil {
						return err
					}
					n := 0
					for _, list := range idx.Entries {
						n += len(list)
					}
					fmt.Fprintf(c.App.Writer, "wrote %s (%d charts)\n", path, n)
					return nil
				},
			}),
		},
	})
}
