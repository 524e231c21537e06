package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/repo"
)

// loginOptions are bundle login's flags.
type loginOptions struct {
	registry registryOptions
	user     credentialOptions
}

func loginCommand() *ucli.Command {
	o := &loginOptions{}
	return withHelp(helpText{
		usage:    "log in to an OCI registry (stored as docker login stores it)",
		args:     "HOST",
		examples: "echo \"$TOKEN\" | bundle login registry.example.com -u ci --password-stdin",
	}, &ucli.Command{
		Name:  "login",
		Flags: append(o.user.flags("user name"), o.registry.flags()...),
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "HOST"); err != nil {
				return err
			}
			host := c.Args().Get(0)
			if o.user.username == "" {
				return usagef(c, "--username is required")
			}
			password, err := o.user.password(c)
			if err != nil {
				return err
			}
			oci, err := o.registry.oci(c)
			if err != nil {
				return err
			}
			if err := repo.Login(c.Context, host, o.user.username, password, oci); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "logged in to %s as %s\n", host, o.user.username)
			return nil
		},
	})
}

func logoutCommand() *ucli.Command {
	return withHelp(helpText{
		usage:    "forget the login for an OCI registry",
		args:     "HOST",
		examples: "bundle logout registry.example.com",
	}, &ucli.Command{
		Name: "logout",
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "HOST"); err != nil {
				return err
			}
			store, err := credentialStore(c)
			if err != nil {
				return err
			}
			if err := repo.Logout(c.Context, c.Args().Get(0), store); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "logged out of %s\n", c.Args().Get(0))
			return nil
		},
	})
}

// credentialOptions are --username and --password-stdin.
type credentialOptions struct {
	username      string
	passwordStdin bool
}

func (o *credentialOptions) flags(usage string) []ucli.Flag {
	return []ucli.Flag{
		stringFlag(&o.username, "username", "", usage, "u"),
		boolFlag(&o.passwordStdin, "password-stdin", "read the password from standard input"),
	}
}

// password reads the password from stdin (--password-stdin) or, on a
// terminal, from a prompt that does not echo it.
func (o credentialOptions) password(c *ucli.Context) (string, error) {
	if o.passwordStdin {
		// Read aside, so that an interrupt ends the command even while
		// standard input stays open and silent.
		type result struct {
			line string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
			done <- result{line, err}
		}()
		var line string
		select {
		case <-c.Context.Done():
			return "", fmt.Errorf("reading the password from standard input: %w", context.Cause(c.Context))
		case r := <-done:
			if r.err != nil && r.err != io.EOF {
				return "", fmt.Errorf("reading the password from standard input: %v", r.err)
			}
			line = r.line
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, nil
		}
		return "", usagef(c, "standard input held no password")
	}
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.App.ErrWriter, "Password: ")
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		return string(p), nil
	}
	return "", usagef(c, "no password: pass it on standard input with --password-stdin")
}
