package bluegreen

import (
	"context"
	"sort"
	"strings"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

// Bindings is the bindings graph of the client's namespace, or of every
// namespace with all, read from the release records: every release (but
// those uninstalled) with the bindings its latest revision records. A
// blue/green app is one app named as its router, with the bindings of its
// live colour: the one its stable Services select, read from the cluster
// as bundle status reads them (Recorded says what the router's record
// says when it differs); its colour releases are not listed of their own.
// Apps are sorted by namespace and name. Each app's Consumers are read
// as bundle status reads them: from every namespace the credentials may
// list, even without all, so that a consumer in another namespace shows.
func (b *Client) Bindings(ctx context.Context, all bool) ([]plan.BoundApp, error) {
	if err := b.rel.Reachable(); err != nil {
		return nil, err
	}
	// One list of every namespace serves both the apps (filtered to the
	// client's namespace without all) and their consumers; the client's
	// namespace alone when the credentials may not list them all.
	// The colour a router's stable Services select, in its namespace.
	served := func(st *State) (servedBy, error) {
		if st.router.Namespace == b.ns {
			return b.served(ctx, st) // with the Services of its last completed revision
		}
		return b.readServed(ctx, st.router.Namespace, st.Name, st.Services)
	}
	var apps, scope []plan.BoundApp
	if wide, err := b.rel.Latest(true); err == nil {
		scope = boundApps(wide, served)
		apps = scope
		if !all {
			apps = nil
			for _, a := range scope {
				if strings.HasPrefix(a.Name, b.ns+"/") {
					apps = append(apps, a)
				}
			}
		}
	} else if all {
		return nil, err
	} else {
		rels, err := b.rel.Latest(false)
		if err != nil {
			return nil, err
		}
		apps = boundApps(rels, served)
		scope = apps
	}
	cons := plan.Consumers(scope)
	for i := range apps {
		apps[i].Consumers = cons[apps[i].Name]
	}
	return apps, nil
}

// boundApps is Bindings of the latest revisions rels; served reads what
// the stable Services of a blue/green app select (nil: the routers'
// records are taken as they are).
func boundApps(rels []*release.Record, served func(*State) (servedBy, error)) []plan.BoundApp {
	routers := map[string]*State{} // by NAMESPACE/NAME
	byName := map[string]*release.Record{}
	var keep []*release.Record
	for _, r := range rels {
		if !r.Installed() {
			continue
		}
		keep = append(keep, r)
		byName[r.Namespace+"/"+r.Name] = r
		if st := parseRouter(r); st != nil {
			routers[r.Namespace+"/"+r.Name] = st
		}
	}
	var out []plan.BoundApp
	for _, r := range keep {
		key := r.Namespace + "/" + r.Name
		if of := r.Annotations[annColorOf]; of != "" && routers[r.Namespace+"/"+of] != nil {
			continue // shown as its router's app
		}
		app := plan.BoundApp{Name: key}
		src := r
		if st := routers[key]; st != nil {
			now, unknown := servedColours(st, served, func(name string) bool { return byName[r.Namespace+"/"+name] != nil })
			if unknown != "" {
				app.LiveUnknown, app.Recorded = unknown, orNoColour(st.Live)
			} else {
				app.Live, app.Spare = now.Live, now.Spare
				if now.Record != nil {
					app.Recorded = orNoColour(now.Record.Live)
				}
				if live := byName[r.Namespace+"/"+now.LiveRelease()]; live != nil {
					src = live
				}
			} // else the router's own record: the claims it holds
		}
		app.Bundle, app.Version = src.Bundle, src.Version
		for _, res := range src.Resolved() {
			if res.Bound != "" {
				app.Bindings = append(app.Bindings, plan.Bound{Instance: res.Instance, Provider: res.Bound, Claim: res.Claim})
			}
		}
		sort.Slice(app.Bindings, func(i, j int) bool { return app.Bindings[i].Instance < app.Bindings[j].Instance })
		out = append(out, app)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// servedColours is blue/green app st as its stable Services make it (see
// truthOf), read with served (nil: st as its record says); unknown, when
// not empty, says why the live colour is not known.
func servedColours(st *State, served func(*State) (servedBy, error), installed func(string) bool) (now *State, unknown string) {
	if served == nil {
		return st, ""
	}
	s, err := served(st)
	if err != nil {
		return nil, errdefs.OneLine(err.Error())
	}
	now, ok := servedTruth(st, s, installed)
	if !ok {
		return nil, "its stable Services do not all select one colour (" + s.says(st.Name) + ")"
	}
	return now, ""
}

// orNoColour is col, or "none".
func orNoColour(col string) string {
	if col == "" {
		return "none"
	}
	return col
}
