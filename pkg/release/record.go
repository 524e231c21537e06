package release

// What a revision records of its bundle and bindings, written when it is
// rendered and read back by later operations: the one place that knows
// the chart annotations (plan.ParseResolved, plan.GrantAnnotation).

import (
	"encoding/json"
	"fmt"

	"github.com/Masterminds/semver/v3"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// recordedRoot is what a release's record says of its root bundle: its
// name, version and app version (nothing of its files), and the
// repository it came from, when recorded.
func recordedRoot(rel *helmrelease.Release) (*bundle.Bundle, string, error) {
	if rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil, "", fmt.Errorf("release %s/%s has no chart", rel.Namespace, rel.Name)
	}
	md := rel.Chart.Metadata
	v, err := semver.NewVersion(md.Version)
	if err != nil {
		return nil, "", fmt.Errorf("release %s/%s: chart version %q: %v", rel.Namespace, rel.Name, md.Version, err)
	}
	return &bundle.Bundle{Name: md.Name, Version: v, AppVersion: md.AppVersion, Description: md.Description, Chart: rel.Chart,
		File: &bundle.File{}, Source: "release " + rel.Namespace + "/" + rel.Name}, md.Annotations[plan.RepositoryAnnotation], nil
}

// providerBundle rebuilds a release's root bundle from its record: the
// chart's name and version, its bundle.yaml, the chart itself; and the
// repository it came from, when recorded. It is read as data (the
// outputs and requirements a release says it has), never rendered: a
// binding loads the provider's bundle from its repository.
func providerBundle(rel *helmrelease.Release) (*bundle.Bundle, string, error) {
	b, repo, err := recordedRoot(rel)
	if err != nil {
		return nil, "", err
	}
	for _, f := range rel.Chart.Files {
		if f.Name == bundle.FileName {
			if b.File, err = bundle.ParseFile(b.Source+": "+bundle.FileName, f.Data); err != nil {
				return nil, "", err
			}
		}
	}
	return b, repo, nil
}

// recordProvider records in the composed chart what an app bound to the
// release checks and reads: the root bundle's content digest, as a lock
// records it (plan.DigestAnnotation; any the bundle's Chart.yaml says is
// replaced), and its outputs as they render for the release
// (plan.OutputsAnnotation), which bundle get metadata shows. A bundle
// without outputs records none, nor one whose outputs fail to render.
func recordProvider(chrt *chart.Chart, p *plan.Plan, vals map[string]any, rel render.ReleaseOptions) error {
	if chrt.Metadata.Annotations == nil {
		chrt.Metadata.Annotations = map[string]string{}
	}
	d, err := plan.Digest(p.Repository, p.Root.Bundle)
	if err != nil {
		return err
	}
	chrt.Metadata.Annotations[plan.DigestAnnotation] = d
	if len(p.Root.Bundle.File.Outputs) == 0 {
		return nil
	}
	outs, err := render.Outputs(p, vals, rel)
	if err != nil {
		return nil // a binding renders them again, and says why they fail
	}
	data, err := json.Marshal(outs)
	if err != nil {
		return err
	}
	chrt.Metadata.Annotations[plan.OutputsAnnotation] = string(data)
	return nil
}

// recordedBindings is what a revision recorded of its resolution.
func recordedBindings(rel *helmrelease.Release) []plan.Resolved {
	if rel == nil || rel.Chart == nil || rel.Chart.Metadata == nil {
		return nil
	}
	r, _ := plan.ParseResolved(rel.Chart.Metadata.Annotations)
	return r
}
