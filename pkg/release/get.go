package release

import (
	"context"
	"fmt"
	"time"

	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"

	"github.com/bundlesh/bundle/pkg/errdefs"
)

// Details is one revision of a release in full: everything helm get shows.
type Details struct {
	*Release
	FirstDeployed time.Time
	// Deleted is when the release was uninstalled (with --keep-history);
	// zero otherwise.
	Deleted time.Time
	// Chart is the metadata of the chart the revision was installed from:
	// for a bundle release, the composed chart of the root bundle.
	Chart ChartInfo
	// Hooks are the revision's hook manifests (tests included) and how
	// each last ran.
	Hooks []Hook
	// ComputedValues are the chart's defaults coalesced with the values
	// the user supplied: what the templates saw (helm get values --all).
	ComputedValues map[string]any
	// Labels are the release record's labels (Helm's own and --labels).
	Labels map[string]string
	// UserValues and Wiring part Values (Helm's config): what the user
	// gave, and what bundle computed into them: the outputs of the
	// requirements under requires: (at the top and in each instance's
	// values) and a bound requirement's claim. Both have the values'
	// shape; neither is nil.
	UserValues, Wiring map[string]any
}

// ChartInfo is a chart's Chart.yaml.
type ChartInfo struct {
	APIVersion   string
	Name         string
	Version      string
	AppVersion   string
	Description  string
	Type         string
	KubeVersion  string
	Home         string
	Icon         string
	Sources      []string
	Keywords     []string
	Maintainers  []Maintainer
	Annotations  map[string]string
	Dependencies []Dependency
	Deprecated   bool
}

// Maintainer is one entry of a chart's maintainers.
type Maintainer struct {
	Name, Email, URL string
}

// Dependency is one entry of a chart's dependencies.
type Dependency struct {
	Name         string
	Version      string
	Repository   string
	Condition    string
	Tags         []string
	Enabled      bool
	ImportValues []any
	Alias        string
}

// Hook is a manifest Helm applies at a lifecycle event instead of with the
// release (helm.sh/hook), such as a test Pod.
type Hook struct {
	Name     string
	Kind     string
	Path     string // the template it came from
	Manifest string
	// Events it runs at: pre-install, post-upgrade, test, ...
	Events            []string
	Weight            int
	DeletePolicies    []string
	OutputLogPolicies []string
	LastRun           HookRun
}

// IsTest reports whether the hook runs at bundle test (helm test).
func (h Hook) IsTest() bool {
	for _, e := range h.Events {
		if e == string(helmrelease.HookTest) {
			return true
		}
	}
	return false
}

// HookRun is how a hook last ran.
type HookRun struct {
	StartedAt   time.Time
	CompletedAt time.Time
	// Phase is Running, Succeeded or Failed; Unknown or empty when it
	// never ran.
	Phase string
}

// Get returns one revision of a release in full; revision 0 means the
// latest.
func (c *Client) Get(ctx context.Context, name string, revision int) (*Details, error) {
	_, d, err := c.get(ctx, name, revision)
	return d, err
}

// get is Get, with the stored revision it reads.
func (c *Client) get(_ context.Context, name string, revision int) (*helmrelease.Release, *Details, error) {
	if revision < 0 {
		return nil, nil, errdefs.Fixable(errdefs.ErrInvalid, []errdefs.Fix{{See: []string{"history", name, "-n", c.namespace}}}, "revision %d of %q: revisions count from 1", revision, name)
	}
	if err := c.reachable(); err != nil {
		return nil, nil, err
	}
	r, err := c.hist.stored(name, revision)
	if err != nil {
		return nil, nil, err
	}
	d, err := details(r)
	return r, d, err
}

func details(r *helmrelease.Release) (*Details, error) {
	d := &Details{Release: summarize(r), Labels: r.Labels}
	d.UserValues, d.Wiring = splitWiring(r.Config, d.Resolved)
	if r.Info != nil {
		d.FirstDeployed = r.Info.FirstDeployed
		d.Deleted = r.Info.Deleted
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		m := r.Chart.Metadata
		d.Chart = ChartInfo{
			APIVersion: m.APIVersion, Name: m.Name, Version: m.Version, AppVersion: m.AppVersion,
			Description: m.Description, Type: m.Type, KubeVersion: m.KubeVersion, Home: m.Home, Icon: m.Icon,
			Sources: m.Sources, Keywords: m.Keywords, Annotations: m.Annotations, Deprecated: m.Deprecated,
		}
		for _, mt := range m.Maintainers {
			if mt != nil {
				d.Chart.Maintainers = append(d.Chart.Maintainers, Maintainer{Name: mt.Name, Email: mt.Email, URL: mt.URL})
			}
		}
		for _, dep := range m.Dependencies {
			if dep != nil {
				d.Chart.Dependencies = append(d.Chart.Dependencies, Dependency{
					Name: dep.Name, Version: dep.Version, Repository: dep.Repository, Condition: dep.Condition,
					Tags: dep.Tags, Enabled: dep.Enabled, ImportValues: dep.ImportValues, Alias: dep.Alias,
				})
			}
		}
	}
	for _, h := range r.Hooks {
		d.Hooks = append(d.Hooks, hook(h))
	}
	if r.Chart != nil {
		all, err := commonutil.CoalesceValues(r.Chart, r.Config)
		if err != nil {
			return nil, fmt.Errorf("computing the values of %q revision %d: %w", r.Name, r.Version, err)
		}
		d.ComputedValues = all
	} else {
		d.ComputedValues = r.Config
	}
	return d, nil
}

func hook(h *helmrelease.Hook) Hook {
	out := Hook{Name: h.Name, Kind: h.Kind, Path: h.Path, Manifest: h.Manifest, Weight: h.Weight,
		LastRun: HookRun{StartedAt: h.LastRun.StartedAt, CompletedAt: h.LastRun.CompletedAt, Phase: string(h.LastRun.Phase)}}
	for _, e := range h.Events {
		out.Events = append(out.Events, string(e))
	}
	for _, p := range h.DeletePolicies {
		out.DeletePolicies = append(out.DeletePolicies, string(p))
	}
	for _, p := range h.OutputLogPolicies {
		out.OutputLogPolicies = append(out.OutputLogPolicies, string(p))
	}
	return out
}
