package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// installOptions are bundle install's flags.
type installOptions struct {
	applyOptions
	release.InstallOptions
}

func installCommand() *ucli.Command {
	o := &installOptions{}
	return command("install", helpText{
		usage: "install a bundle with its infrastructure as one release",
		args:  "[NAME] BUNDLE",
		description: `BUNDLE is REPO/NAME (stable/mediawiki) or a directory (./myapp).
NAME defaults to the bundle's name (see --generate-name and --name-template).
The CRDs in crds/ (the bundle's and its requirements') are created first when missing; as with helm,
they are never upgraded or deleted by bundle.
--bind INSTANCE=[NAMESPACE/]RELEASE (or bundle.bind: {INSTANCE: RELEASE} in values) uses an installed
release for a requirement instead of installing one: see docs/bindings.md.
-o json|yaml prints the release installed as bundle get all -o json|yaml prints it (with --dry-run,
the release it would install) instead of its summary; -f - reads values from standard input.`,
		examples: `bundle install wiki stable/mediawiki -n team --create-namespace --wait
# use the MariaDB release team-db instead of installing one with the wiki
bundle install wiki stable/mediawiki --bind database=team-db
bundle install ./shop -f prod.yaml --set replicas=3 --rollback-on-failure
# validate against the cluster and print the manifests, changing nothing
bundle install wiki stable/mediawiki --dry-run
# values from standard input; the release as JSON
generate-values | bundle install wiki stable/mediawiki -f - -o json`,
	}, o.run, o.flags(), []ucli.Flag{o.output.flag()})
}

// flags are install's flags (bundle diff install's too).
func (o *installOptions) flags() []ucli.Flag {
	return flags(o.applyOptions.flags("install", &o.Force), namingFlags(&o.helm.naming), []ucli.Flag{
		boolFlag(&o.helm.SkipCRDs, "skip-crds", "do not create the CRDs in crds/"),
		boolFlag(&o.CreateNamespace, "create-namespace", "create the namespace if it does not exist"),
		boolFlag(&o.Atomic, "rollback-on-failure", "uninstall everything if the install fails (implies --wait); --atomic is its former name, as in helm 4", "atomic"),
	})
}

func (o *installOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	return o.apply(c, name, ref, "installed", func(cl *client, src plan.Source, wait release.WaitOptions) (*release.Release, error) {
		return cl.Install(c.Context, o.options(name, src, wait))
	})
}

// options are the library's install options these flags say.
func (o *installOptions) options(name string, src plan.Source, wait release.WaitOptions) release.InstallOptions {
	opts := o.InstallOptions
	opts.Source, opts.ReleaseName, opts.Naming, opts.DryRun = src, name, o.helm.naming, o.dryRun
	opts.WaitOptions, opts.HelmOptions = wait, o.helm.HelmOptions
	return opts
}
