package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	ucli "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/repo"
)

func plainHTTPFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "plain-http", Usage: "talk to OCI registries over plain HTTP (TLS is the default)"}
}

func insecureFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "insecure-skip-tls-verify", Usage: "do not verify OCI registries' TLS certificates"}
}

// ociOptions are the registry settings of a command: --plain-http, and the
// logins of bundle login and docker login (anonymous if they cannot be read).
func ociOptions(c *ucli.Context) repo.OCIOptions {
	o := repo.OCIOptions{PlainHTTP: c.Bool("plain-http"), Insecure: c.Bool("insecure-skip-tls-verify")}
	if store, err := repo.DockerCredentials(); err == nil {
		o.Credentials = store
	}
	// Progress bars only on a terminal, and not with --quiet.
	if f, ok := c.App.ErrWriter.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !c.Bool("quiet") {
		o.Progress = f
	}
	return o
}

func quietFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars"}
}

func pushCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "push",
		Usage:     "push a bundle (a .tgz package or a directory) to an OCI registry, as a Helm OCI chart",
		ArgsUsage: "PACKAGE|DIR oci://HOST/NAMESPACE",
		Flags: []ucli.Flag{
			plainHTTPFlag(),
			insecureFlag(),
			quietFlag(),
			&ucli.BoolFlag{Name: "force", Usage: "replace a version that exists with other content"},
		},
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 2, "PACKAGE|DIR oci://HOST/NAMESPACE"); err != nil {
				return err
			}
			src, dest := c.Args().Get(0), c.Args().Get(1)
			var pkg []byte
			var b *bundle.Bundle
			var err error
			if isDir(src) {
				if b, err = bundle.LoadDirBuildingDeps(src); err != nil {
					return err
				}
				if pkg, err = b.Package(); err != nil {
					return err
				}
			} else {
				// A chart archive is pushed as it is, once the strict
				// loader has accepted it.
				if pkg, err = bundle.ReadArchiveFile(src); err != nil {
					return err
				}
				if b, err = bundle.LoadArchive(pkg, src); err != nil {
					return err
				}
			}
			o, err := repo.NewOCI(dest, ociOptions(c))
			if err != nil {
				return err
			}
			digest, err := o.Push(c.Context, pkg, repo.PushOptions{Force: c.Bool("force")})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "pushed %s/%s:%s@%s\n", dest, b.Name, repo.TagOf(b.Version), digest)
			return nil
		},
	}
}

func pullCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "pull",
		Usage:     "download a bundle (a chart archive) from a repository or an OCI registry",
		ArgsUsage: "REPO/NAME | oci://HOST/NAMESPACE/NAME[@sha256:DIGEST]",
		Description: "Writes NAME-VERSION.tgz into --destination, or the bundle's files with --untar.\n" +
			"Works for the stable catalog (stable/NAME), added repositories (REPO/NAME)\n" +
			"and OCI registries.",
		Flags: []ucli.Flag{
			plainHTTPFlag(),
			insecureFlag(),
			quietFlag(),
			&ucli.StringFlag{Name: "version", Usage: "version constraint (default: newest)"},
			&ucli.StringFlag{Name: "destination", Aliases: []string{"d"}, Value: ".", Usage: "directory to write to"},
			&ucli.BoolFlag{Name: "untar", Usage: "write the bundle's files instead of the .tgz"},
			&ucli.StringFlag{Name: "untardir", Usage: "with --untar, the directory (under --destination) to write the files to (default: the bundle's name)"},
		},
		Action: func(c *ucli.Context) error {
			if err := exactArgs(c, 1, "REPO/NAME or oci://HOST/NAMESPACE/NAME"); err != nil {
				return err
			}
			arg := c.Args().Get(0)
			refText, dgst, byDigest := cutDigest(arg)
			ref, err := repo.ParseReference(refText)
			if err != nil {
				return err
			}
			if ref.Local() {
				return usagef(c, "%q is a local path: pull takes REPO/NAME or oci://HOST/NAMESPACE/NAME", arg)
			}
			var b *bundle.Bundle
			from := ""
			oci := strings.HasPrefix(ref.Ref.Repository, "oci://")
			switch {
			case byDigest && !oci:
				return usagef(c, "%q: @DIGEST is for OCI references only", arg)
			case byDigest:
				o, err := repo.NewOCI(ref.Ref.Repository, ociOptions(c))
				if err != nil {
					return err
				}
				if b, _, err = o.Pull(c.Context, ref.Ref.Name, dgst); err != nil {
					return err
				}
			default:
				set, err := repos(c)
				if err != nil {
					return err
				}
				con, err := versionConstraint(c)
				if err != nil {
					return err
				}
				if b, err = set.LoadReference(c.Context, ref, con); err != nil {
					return err
				}
			}
			if b.SourceDigest != "" {
				from = " (" + b.SourceDigest + ")" // the OCI manifest
			}
			dest := c.String("destination")
			if c.Bool("untar") {
				dir := b.Name
				if d := c.String("untardir"); d != "" {
					dir = d
				}
				written, err := b.WriteDir(filepath.Join(dest, dir))
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "pulled %s %s%s into %s (%d files)\n", b.Name, b.Version, from, filepath.Join(dest, dir), written)
				return nil
			}
			pkg, err := b.Package()
			if err != nil {
				return err
			}
			path := filepath.Join(dest, b.Name+"-"+b.Chart.Metadata.Version+".tgz")
			if err := bundle.WriteFileAtomic(path, pkg); err != nil {
				return fmt.Errorf("--destination %s: %w", dest, err)
			}
			fmt.Fprintf(c.App.Writer, "pulled %s %s%s to %s\n", b.Name, b.Version, from, path)
			return nil
		},
	}
}

// versionConstraint reads --version, once for every command that has it.
func versionConstraint(c *ucli.Context) (*semver.Constraints, error) {
	v := c.String("version")
	if v == "" {
		return nil, nil
	}
	con, err := bundle.ParseConstraint(v)
	if err != nil {
		return nil, fmt.Errorf("--version: %v (write a semver range such as ^1.0.0)", err)
	}
	return con, nil
}

func cutDigest(s string) (string, string, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return s[:i], s[i+1:], true
		}
		if s[i] == '/' {
			break
		}
	}
	return s, "", false
}
