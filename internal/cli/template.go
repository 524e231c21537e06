package cli

import (
	"fmt"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// templateOptions are bundle template's flags.
type templateOptions struct {
	kube         kubeOptions
	source       sourceOptions
	naming       render.Naming
	postRenderer render.PostRenderer
	outputDir    string
	releaseDir   bool
	render.TemplateOptions
	apiVersions ucli.StringSlice
	skipCRDs    bool // accepted, as helm template accepts it
}

func templateCommand() *ucli.Command {
	o := &templateOptions{}
	return command("template", helpText{
		usage: "render a bundle and its requirements to Kubernetes manifests, without a cluster",
		args:  "[NAME] BUNDLE",
		description: `Prints what helm template prints for the composed chart: the manifests in install order, then the hooks.
The namespace is -n, else $BUNDLE_NAMESPACE or $HELM_NAMESPACE, else the kubeconfig context's (--kube-context,
else $HELM_KUBECONTEXT, else the current one; read, never contacted), else default.`,
		examples: `# render the manifests of a catalog bundle and its requirements
bundle template wiki stable/mediawiki --set wiki.name=Docs
# a bundle in a directory, one file per template
bundle template ./shop --output-dir out/`,
	}, o.run, o.kube.flags(), o.source.flags(), namingFlags(&o.naming), postRendererFlags(&o.postRenderer), []ucli.Flag{
		o.source.develFlag(),
		stringFlag(&o.outputDir, "output-dir", "", "write one file per template under DIR instead of printing"),
		boolFlag(&o.releaseDir, "release-name", "with --output-dir, write under DIR/NAME"),
		stringFlag(&o.KubeVersion, "kube-version", "", "Kubernetes version the templates see (.Capabilities.KubeVersion)"),
		sliceFlag(&o.apiVersions, "api-versions", "an API version the templates see in .Capabilities.APIVersions, e.g. monitoring.coreos.com/v1 (repeatable)", "a"),
		arrayFlag(&o.ShowOnly, "show-only", "print only the manifests of templates matching this path, e.g. templates/deployment.yaml or charts/database/templates/*.yaml (repeatable)", "s"),
		boolFlag(&o.IncludeCRDs, "include-crds", "print the CRDs in crds/ (the bundle's and its requirements') first"),
		boolFlag(&o.skipCRDs, "skip-crds", "accepted as helm template accepts it: template prints CRDs only with --include-crds"),
		boolFlag(&o.SkipTests, "skip-tests", "leave test hooks out"),
		noHooksFlag(&o.NoHooks, "leave every hook out"),
		boolFlag(&o.IsUpgrade, "is-upgrade", "render as for an upgrade (.Release.IsUpgrade)"),
		hidden(arrayFlag(&o.source.bind, "bind", "refused: template reads no cluster")),
	})
}

func (o *templateOptions) run(c *ucli.Context) error {
	name, ref, err := nameAndBundle(c)
	if err != nil {
		return err
	}
	if err := checkNaming(c, name, o.naming, o.postRenderer); err != nil {
		return err
	}
	if len(o.source.bind) > 0 {
		return usagef(c, "--bind %s: template reads no cluster, so not the release a requirement is bound to; see what would be installed with bundle diff install or bundle install --dry-run", o.source.bind[0])
	}
	if o.outputDir != "" && len(o.ShowOnly) > 0 {
		return usagef(c, "--show-only and --output-dir: choose one (helm finds no template either way)")
	}
	set, err := o.source.registry.repos(c)
	if err != nil {
		return err
	}
	src, err := o.source.source(c, ref)
	if err != nil {
		return err
	}
	p, err := plan.Make(c.Context, set, src)
	if err != nil {
		return err
	}
	opts := o.TemplateOptions
	if opts.ReleaseName, err = render.ReleaseName(p.Root.Bundle.Name, name, o.naming, time.Now()); err != nil {
		return err
	}
	kube, err := o.kube.options(c)
	if err != nil {
		return err
	}
	opts.Namespace = kube.ResolveNamespace()
	opts.Values = p.Values
	opts.APIVersions = o.apiVersions.Value()
	opts.PostRenderer = o.postRenderer
	if o.outputDir == "" {
		out, err := render.Template(c.Context, p, opts)
		if err != nil {
			return err
		}
		_, err = io.WriteString(c.App.Writer, out)
		return err
	}
	r, err := render.Render(c.Context, p, opts)
	if err != nil {
		return err
	}
	docs, err := r.Documents()
	if err != nil {
		return err
	}
	releaseDir := ""
	if o.releaseDir {
		releaseDir = opts.ReleaseName
	}
	written, err := render.WriteDir(o.outputDir, releaseDir, docs)
	for _, f := range written {
		fmt.Fprintf(c.App.Writer, "wrote %s\n", f) // on stdout, as helm
	}
	if err == nil {
		fmt.Fprintln(c.App.Writer) // helm prints its (empty) stream
	}
	return err
}
