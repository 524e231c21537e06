package cli

import (
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/deps"
	"github.com/bundlesh/bundle/pkg/repo"
)

// archiveOptions are bundle archive's flags.
type archiveOptions struct {
	registry registryOptions
	version  string
	locked   bool
	output   string
}

func archiveCommand() *ucli.Command {
	o := &archiveOptions{}
	return withHelp(helpText{
		usage: "write a bundle, its requirements and every image they run into one file, for air-gapped clusters",
		args:  "BUNDLE -o FILE.tar | push FILE.tar oci://HOST/PREFIX",
		description: `Resolves BUNDLE's requirements as bundle lock does (with --locked: exactly its bundle.lock, bundles
and images), and writes one OCI image layout as a tar file: every bundle of the graph as a Helm OCI
chart, and every image by digest, a multi-platform image with all its platforms. Its
bundle-archive.json lists each bundle (name, version, tag) and each image (as written, repository,
digest). Carry it offline, then bundle archive push it into a private registry (see docs/airgap.md).`,
		examples: `bundle lock ./shop
bundle archive ./shop --locked -o shop.tar
bundle archive oci://registry.example.com/apps/shop --version ^1 -o shop.tar`,
	}, &ucli.Command{
		Name: "archive",
		Flags: flags(o.registry.flags(), []ucli.Flag{
			o.registry.quietFlag(),
			stringFlag(&o.version, "version", "", "version constraint for the bundle, e.g. ^1.0.0 (default: newest)"),
			boolFlag(&o.locked, "locked", "archive exactly the bundle's bundle.lock: its bundles and its images"),
			stringFlag(&o.output, "output", "", "the archive to write (FILE.tar)", "o"),
		}),
		Action:      o.run,
		Subcommands: []*ucli.Command{archivePushCommand()},
	})
}

func (o *archiveOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 1, "BUNDLE"); err != nil {
		return err
	}
	if o.output == "" {
		return usagef(c, "-o FILE.tar is required: where to write the archive")
	}
	con, err := versionConstraint(o.version)
	if err != nil {
		return err
	}
	set, err := o.registry.repos(c)
	if err != nil {
		return err
	}
	oci, err := o.registry.oci(c)
	if err != nil {
		return err
	}
	opts := deps.ArchiveOptions{Version: con, Locked: o.locked, OCI: transferOptions(oci)}
	if !o.locked {
		opts.Images = newImages(oci)
	}
	res, err := deps.Archive(c.Context, set, c.Args().Get(0), o.output, opts)
	if err != nil {
		return err
	}
	for _, b := range res.Index.Bundles {
		fmt.Fprintf(c.App.Writer, "  bundle %s %s\n", b.Name, b.Version)
	}
	for _, i := range res.Index.Images {
		fmt.Fprintf(c.App.Writer, "  image  %s@%s\n", i.Image, i.Digest)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (%d bundles, %d images)\n", res.Path, len(res.Index.Bundles), len(res.Index.Images))
	for _, w := range res.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	return nil
}

// archivePushOptions are bundle archive push's flags.
type archivePushOptions struct {
	registry registryOptions
	repo.ArchivePushOptions
}

func archivePushCommand() *ucli.Command {
	o := &archivePushOptions{}
	return command("push", helpText{
		usage: "copy a bundle archive into an OCI registry: bundles under PREFIX/NAME, images under PREFIX/REPOSITORY",
		args:  "FILE.tar oci://HOST/PREFIX",
		description: `Each bundle goes to PREFIX/NAME:VERSION; each image, by digest (and its tag, if written with one), to
PREFIX/ and its repository, the host's ":" written "_" (docker.io/library/mariadb ->
HOST/PREFIX/docker.io/library/mariadb). What the registry holds already is not sent again, so an
interrupted push resumes. Every blob read from the archive is checked against its digest.
Then: bundle install oci://HOST/PREFIX/NAME --locked --mirror oci://HOST/PREFIX.`,
		examples: `bundle archive push shop.tar oci://registry.internal/mirror
bundle install shop oci://registry.internal/mirror/shop --locked --mirror oci://registry.internal/mirror --wait`,
	}, o.run, o.registry.flags(), []ucli.Flag{
		o.registry.quietFlag(),
		boolFlag(&o.Force, "force", "move a bundle's version tag or an image's tag that holds other content"),
	})
}

func (o *archivePushOptions) run(c *ucli.Context) error {
	if err := exactArgs(c, 2, "FILE.tar oci://HOST/PREFIX"); err != nil {
		return err
	}
	file, dest := c.Args().Get(0), c.Args().Get(1)
	oci, err := o.registry.oci(c)
	if err != nil {
		return err
	}
	res, err := repo.PushArchive(c.Context, file, dest, transferOptions(oci), o.ArchivePushOptions)
	if err != nil {
		return err
	}
	for _, b := range res.Index.Bundles {
		fmt.Fprintf(c.App.Writer, "  bundle %s/%s:%s\n", dest, b.Name, b.Tag)
	}
	for _, i := range res.Index.Images {
		fmt.Fprintf(c.App.Writer, "  image  %s -> %s\n", i.Image, mirroredImage(dest, i.Repository, i.Digest))
	}
	fmt.Fprintf(c.App.Writer, "pushed %d bundles and %d images to %s (%d uploaded, %d already there)\n",
		len(res.Index.Bundles), len(res.Index.Images), dest, res.Uploaded, res.Skipped)
	fmt.Fprintf(c.App.Writer, "install with: bundle install oci://%s/NAME --locked --mirror %s\n", trimOCI(dest), dest)
	return nil
}

// archiveRequestTimeout bounds one request of bundle archive and archive
// push, reading or sending the body included: image layers run to
// gigabytes, where a chart or an index is small (repo's 5m default).
const archiveRequestTimeout = time.Hour

func transferOptions(o repo.OCIOptions) repo.OCIOptions {
	o.Timeouts.Request = archiveRequestTimeout
	return o
}

func trimOCI(s string) string {
	if len(s) > 6 && s[:6] == "oci://" {
		s = s[6:]
	}
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func mirroredImage(dest, repository, digest string) string {
	return bundle.Pinned(bundle.Mirrored(trimOCI(dest), repository), digest)
}
