package release

import (
	"context"
	"sort"

	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/bundlesh/bundle/pkg/graph"
)

// Bindings is the bindings graph of the client's namespace, or of every
// namespace with all, read from the release records alone: every release
// (but those uninstalled) with the bindings its latest revision records.
// A blue/green app is one app named as its router, with the bindings of
// its live colour; its colour releases are not listed of their own.
// Apps are sorted by namespace and name. Each app's Consumers are read
// as bundle status reads them: from every namespace the credentials may
// list, even without all, so that a consumer in another namespace shows.
func (c *Client) Bindings(ctx context.Context, all bool) ([]graph.BoundApp, error) {
	if err := c.reachable(); err != nil {
		return nil, err
	}
	rels, err := c.listLatest(all)
	if err != nil {
		return nil, err
	}
	apps := boundApps(rels)
	scope := apps
	if !all {
		if wide, err := c.listLatest(true); err == nil {
			scope = boundApps(wide)
		}
	}
	cons := graph.Consumers(scope)
	for i := range apps {
		apps[i].Consumers = cons[apps[i].Name]
	}
	return apps, nil
}

// boundApps is Bindings of the latest revisions rels.
func boundApps(rels []*helmrelease.Release) []graph.BoundApp {
	routed := map[string]bool{} // NAMESPACE/NAME of a router
	byName := map[string]*helmrelease.Release{}
	var keep []*helmrelease.Release
	for _, r := range rels {
		if r.Info != nil && (r.Info.Status == helmrelease.StatusUninstalled || r.Info.Status == helmrelease.StatusUninstalling) {
			continue
		}
		keep = append(keep, r)
		byName[r.Namespace+"/"+r.Name] = r
		if st := parseRouter(r); st != nil {
			routed[r.Namespace+"/"+r.Name] = true
		}
	}
	var out []graph.BoundApp
	for _, r := range keep {
		key := r.Namespace + "/" + r.Name
		if r.Chart != nil && r.Chart.Metadata != nil {
			if of := r.Chart.Metadata.Annotations[annColorOf]; of != "" && routed[r.Namespace+"/"+of] {
				continue // shown as its router's app
			}
		}
		app := graph.BoundApp{Name: key}
		src := r
		if st := parseRouter(r); st != nil {
			app.Live, app.Spare = st.Live, st.Spare
			if live := byName[r.Namespace+"/"+st.LiveRelease()]; live != nil {
				src = live
			} // else the router's own record: the claims it holds

		}
		if src != nil && src.Chart != nil && src.Chart.Metadata != nil {
			app.Bundle, app.Version = src.Chart.Metadata.Name, src.Chart.Metadata.Version
		}
		for _, res := range recordedBindings(src) {
			if res.Bound != "" {
				app.Bindings = append(app.Bindings, graph.Bound{Instance: res.Instance, Provider: res.Bound, Claim: res.Claim})
			}
		}
		sort.Slice(app.Bindings, func(i, j int) bool { return app.Bindings[i].Instance < app.Bindings[j].Instance })
		out = append(out, app)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
