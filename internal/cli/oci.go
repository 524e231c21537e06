package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/repo"
)

// pushOptions are bundle push's flags.
type pushOptions struct {
	registry registryOptions
	repo.PushOptions
}

func pushCommand() *ucli.Command {
	o := &pushOptions{}
	return withHelp(helpText{
		usage:    "push a bundle (a .tgz package or a directory) to an OCI registry, as a Helm OCI chart",
		args:     "PACKAGE|DIR oci://HOST/NAMESPACE",
		examples: "bundle push shop-0.1.0.tgz oci://registry.example.com/bundles",
	}, &ucli.Command{
		Name: "push",
		Flags: append(o.registry.flags(),
			o.registry.quietFlag(),
			boolFlag(&o.Force, "force", "replace a version that exists with other content"),
		),
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
			oci, err := o.registry.oci(c)
			if err != nil {
				return err
			}
			reg, err := repo.NewOCI(dest, oci)
			if err != nil {
				return err
			}
			digest, err := reg.Push(c.Context, pkg, o.PushOptions)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "pushed %s/%s:%s@%s\n", dest, b.Name, repo.TagOf(b.Version), digest)
			return nil
		},
	})
}

// pullOptions are bundle pull's flags.
type pullOptions struct {
	registry             registryOptions
	version, destination string
	untar                bool
	untarDir             string
}

func pullCommand() *ucli.Command {
	o := &pullOptions{}
	return withHelp(helpText{
		usage: "download a bundle (a chart archive) from a repository or an OCI registry",
		args:  "REPO/NAME | oci://HOST/NAMESPACE/NAME[@sha256:DIGEST]",
		description: `Writes NAME-VERSION.tgz into --destination, or the bundle's files with --untar.
Works for the stable catalog (stable/NAME), added repositories (REPO/NAME)
and OCI registries.`,
		examples: `bundle pull oci://registry.example.com/bundles/shop --version ^0.1
bundle pull oci://registry.example.com/bundles/shop --untar -d ./shop`,
	}, &ucli.Command{
		Name: "pull",
		Flags: append(o.registry.flags(),
			o.registry.quietFlag(),
			o.registry.policyFlag(),
			stringFlag(&o.version, "version", "", "version constraint (default: newest)"),
			stringFlag(&o.destination, "destination", ".", "directory to write to", "d"),
			boolFlag(&o.untar, "untar", "write the bundle's files instead of the .tgz"),
			stringFlag(&o.untarDir, "untardir", "", "with --untar, the directory (under --destination) to write the files to (default: the bundle's name)"),
		),
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
				opts, err := o.registry.ociChecked(c)
				if err != nil {
					return err
				}
				reg, err := repo.NewOCI(ref.Ref.Repository, opts)
				if err != nil {
					return err
				}
				if b, _, err = reg.Pull(c.Context, ref.Ref.Name, dgst); err != nil {
					return err
				}
			default:
				set, err := o.registry.repos(c)
				if err != nil {
					return err
				}
				con, err := versionConstraint(o.version)
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
			dest := o.destination
			if o.untar {
				dir := b.Name
				if d := o.untarDir; d != "" {
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
	})
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
