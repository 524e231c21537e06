package cli

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// applyOptions are what install and upgrade share: the cluster, the
// bundle and values (Helm's flags), the wait, and the dry run.
type applyOptions struct {
	kube   kubeOptions
	helm   helmOptions
	wait   waitOptions
	write  writeOptions
	dryRun bool
	// output is install's and upgrade's -o (not bundle diff's: its own).
	output outputOption
	// hideNotes and hideSecret are helm 4's --hide-notes and
	// --hide-secret: what the printed release leaves out.
	hideNotes, hideSecret bool
}

// flags are the flags install and upgrade share; force is the
// operation's Force, which --force-replace sets.
func (o *applyOptions) flags(verb string, force *bool) []ucli.Flag {
	return flags(o.kube.flags(), o.helm.flags(verb), o.wait.flags(), o.write.flags(force, verb == "install"), []ucli.Flag{
		o.wait.quietFlag(),
		dryRunFlag(&o.dryRun, "validate against the cluster and print the manifests; change nothing", "render without a cluster with bundle template"),
		boolFlag(&o.hideNotes, "hide-notes", "do not print the bundle's notes (they are recorded all the same: bundle get notes)"),
		boolFlag(&o.hideSecret, "hide-secret", "with --dry-run, leave the Secrets out of the manifests printed"),
	})
}

// apply checks the flags install and upgrade share, binds what they apply
// (the source: bundle, version, values; the client of the cluster; the
// wait), runs op with them and prints the release as verb.
func (o *applyOptions) apply(c *ucli.Context, name, ref, verb string, op func(*client, plan.Source, release.WaitOptions) (*release.Release, error)) error {
	if err := o.checkHide(c); err != nil {
		return err
	}
	cl, src, err := o.prepare(c, name, ref)
	if err != nil {
		return err
	}
	rel, err := op(cl, src, o.wait.options(c))
	if err != nil {
		return err
	}
	return o.print(c, cl, verb, rel)
}

// print prints the release an install or upgrade made (with --dry-run,
// would make): with -o json|yaml, as bundle get all prints it, read back
// from the cluster (a dry run's, and one that cannot be read back, from
// what the operation returned, with a warning); else its summary.
func (o *applyOptions) print(c *ucli.Context, cl *client, verb string, rel *release.Release) error {
	rel = o.shown(rel)
	if o.output.format != outJSON && o.output.format != outYAML {
		if o.hideNotes {
			shown := *rel
			shown.Notes = ""
			rel = &shown
		}
		return printDone(c.App.Writer, verb, rel, o.dryRun)
	}
	d := &release.Details{Release: rel, Chart: release.ChartInfo{Name: rel.Bundle, Version: rel.Version, AppVersion: rel.AppVersion}}
	if !o.dryRun {
		got, err := cl.Get(c.Context, rel.Name, rel.Revision)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: release %q %s, but reading it back failed (%s): printing what the operation returned\n", rel.Name, verb, oneLine(withHints(err)))
		} else {
			d = got
		}
	}
	_, err := o.output.write(c.App.Writer, toReleaseObject(d))
	return err
}

// checkHide refuses --hide-secret without --dry-run, as helm 4 does
// (only a dry run prints manifests). bundle diff, which takes install's
// and upgrade's flags, never shows a Secret's values: it does not call it.
func (o *applyOptions) checkHide(c *ucli.Context) error {
	if o.hideSecret && !o.dryRun {
		return usagef(c, "--hide-secret hides the Secrets of the manifests a dry run prints: give --dry-run too, as in helm 4")
	}
	return nil
}

// shown is rel as printed: without its Secrets with --hide-secret.
func (o *applyOptions) shown(rel *release.Release) *release.Release {
	if !o.hideSecret {
		return rel
	}
	shown := *rel
	shown.Manifest = withoutSecrets(rel.Manifest)
	return &shown
}

// prepare checks the flags install and upgrade share and returns the
// client of the cluster and the source (bundle, version, values).
func (o *applyOptions) prepare(c *ucli.Context, name, ref string) (*client, plan.Source, error) {
	if err := o.output.check(c); err != nil {
		return nil, plan.Source{}, err
	}
	if err := checkNaming(c, name, o.helm.naming, o.helm.PostRenderer); err != nil {
		return nil, plan.Source{}, err
	}
	if err := o.wait.check(c); err != nil {
		return nil, plan.Source{}, err
	}
	if err := o.write.check(c); err != nil {
		return nil, plan.Source{}, err
	}
	if err := o.helm.parseLabels(c); err != nil {
		return nil, plan.Source{}, err
	}
	src, err := o.helm.source.source(c, ref)
	if err != nil {
		return nil, plan.Source{}, err
	}
	o.helm.source.registry.Quiet = o.wait.quiet
	if err := checkRepositoryEnv(getenv(c)); err != nil {
		return nil, plan.Source{}, err
	}
	kube, err := o.kube.options(c)
	if err != nil {
		return nil, plan.Source{}, err
	}
	cl, err := newClient(c, kube, o.helm.source.registry)
	if err != nil {
		return nil, plan.Source{}, err
	}
	return cl, src, nil
}

// documentStart is the line that starts a YAML document in a manifest.
var documentStart = regexp.MustCompile(`(?m)^---[ \t]*$`)

// withoutSecrets is manifest without its documents of kind Secret, as
// helm 4's --hide-secret leaves them out of a dry run's manifest.
func withoutSecrets(manifest string) string {
	var kept []string
	for _, doc := range documentStart.Split(manifest, -1) {
		var head struct{ Kind string }
		if strings.TrimSpace(doc) == "" || yaml.Unmarshal([]byte(doc), &head) == nil && head.Kind == "Secret" {
			continue
		}
		kept = append(kept, "---\n"+strings.TrimPrefix(doc, "\n"))
	}
	return strings.Join(kept, "")
}

// printDone prints what an install or upgrade did as verb: the release's
// revision, bundle and requirements, then its notes; with dryRun, what it
// would do and the manifests it would apply.
func printDone(w io.Writer, verb string, r *release.Release, dryRun bool) error {
	if dryRun {
		fmt.Fprintf(w, "# dry run: %s %s-%s as %q in namespace %q would be %s\n", r.Bundle, r.Bundle, r.Version, r.Name, r.Namespace, verb)
		for _, e := range r.Elsewhere {
			fmt.Fprintf(w, "# %s\n", elsewhereLine(e))
		}
		_, err := io.WriteString(w, strings.TrimSpace(r.Manifest)+"\n")
		return err
	}
	fmt.Fprintf(w, "Release %q %s in namespace %q: revision %d, %s\n", r.Name, verb, r.Namespace, r.Revision, r.Status)
	fmt.Fprintf(w, "Bundle: %s %s (app %s)\n", r.Bundle, r.Version, r.AppVersion)
	for _, d := range r.Resolved {
		if !d.Installed() {
			fmt.Fprintf(w, "  %s: %s %s %s\n", d.Instance, d.Bundle, d.Version, requirementSource(d))
			continue
		}
		fmt.Fprintf(w, "  %s: %s %s from %s\n", d.Instance, d.Bundle, d.Version, d.Repository)
	}
	if n := strings.TrimSpace(r.Notes); n != "" {
		fmt.Fprintf(w, "\n%s\n", n)
	}
	return nil
}
