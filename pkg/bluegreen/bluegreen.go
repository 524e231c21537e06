// Package bluegreen upgrades apps with the blue-green strategy, above
// package release, which performs every operation on each of an app's
// releases: the colour that is not live is prepared once
// (release.Client.Prepare), installed or upgraded and waited for, then the
// app's stable Services are switched to it; rollback switches back to the
// spare at once, prune removes it. A Client is also the release.Guard that
// keeps an operation on one of an app's releases from breaking the app
// (a router upgraded or rolled back in place, the live colour uninstalled
// on its own).
package bluegreen

// Blue/green apps (docs/blue-green.md). An app NAME upgraded with the
// blue-green strategy is three Helm releases in one namespace:
//
//   - NAME-blue and NAME-green, the two colours: each the whole bundle,
//     installed and upgraded as any release (its requirements must all be
//     bound to provider releases: stateful infrastructure is never
//     duplicated);
//   - NAME, the router: the app's stable Services, each named as the live
//     colour's Service with the colour taken out of its name
//     (NAME-green-web: NAME-web), with that Service's ports and selector;
//     the live colour's Ingresses (a colour installs none of its own), so
//     named and pointed at the stable Services; and the claims of the app's
//     bindings, made once for the app (NAME's, not a colour's) so that both
//     colours use the same database.
//
// The router's record (its chart's annotations) says which colour is live
// and which is the hot spare; but the truth is what its stable Services
// select, read from the cluster before every upgrade, rollback and prune
// (a switch stores its record before it updates the Services, and may stop
// in between): the router's record is made to agree with them first.
// Switching is an upgrade of the router whose Services select the other
// colour's pods; it is done only once those are ready.

import (
	"context"
	"sort"
	"strings"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

const (
	// Strategy is bundle upgrade --strategy blue-green.
	Strategy = "blue-green"

	// The router's chart name and the annotations of its record.
	routerChart   = "bundle-router"
	annBlueGreen  = "bundle.sh/blue-green"
	annLive       = "bundle.sh/live"
	annSpare      = "bundle.sh/spare"
	annColorOf    = "bundle.sh/color-of"
	colorLabel    = "bundle.sh/color"
	routerVersion = "1.0.0"
)

// Client runs blue-green operations over a release client, and guards its
// other operations (New).
type Client struct {
	rel *release.Client
	ns  string
}

// New returns a client over rel, which it guards from then on (see
// release.Guard).
func New(rel *release.Client) *Client {
	b := &Client{rel: rel, ns: rel.Namespace()}
	rel.Guard(b)
	return b
}

// Release is the release client b runs over.
func (b *Client) Release() *release.Client { return b.rel }

// Colors are the two colours of a blue/green app.
var Colors = [2]string{"blue", "green"}

// OtherColor is the colour that is not c ("blue" when c is empty).
func OtherColor(c string) string {
	if c == "blue" {
		return "green"
	}
	return "blue"
}

// ColorRelease is the release of app name's colour c: NAME-c.
func ColorRelease(name, c string) string { return name + "-" + c }

// State is a blue/green app's state, as its router records it.
type State struct {
	Name string
	// Live is the colour the stable Services select; Spare the colour
	// kept as a hot spare, empty when there is none (first upgrade, or
	// pruned).
	Live, Spare string
	// Services are the stable Services' names.
	Services []string
	// Revision is the live colour release's revision.
	Revision int
	// Release, after a blue-green upgrade, is the revision of the colour
	// it made live (with DryRun, would make live).
	Release *release.Release
	// router is the router's revision this state was read from (nil for
	// a state not yet routed).
	router *release.Record
	// NewClaims, of a blue-green upgrade, are the claims the router makes
	// for the app before the colour comes up (INSTANCE on
	// NAMESPACE/PROVIDER): those no colour used before.
	NewClaims []string
	// Record, when the router's record says another live colour or spare
	// than its stable Services make (read from the cluster: Live is the
	// colour they select), is what the record says; nil when they agree.
	Record *State
	// Reconciled, after an operation that first made the router's record
	// agree with its stable Services (its last revision left pending by an
	// operation that stopped, or failed, or saying another colour), says
	// what was wrong and what it recorded.
	Reconciled string
	// repair: Live is the colour a rollback points stable Services that
	// did not all select one colour at (holdRouter).
	repair bool
}

// LiveRelease and SpareRelease are the releases of the live and spare
// colours; empty without one (no colour switched to yet: the router holds
// the app's claims before its first colour is up; no spare).
func (b *State) LiveRelease() string {
	if b.Live == "" {
		return ""
	}
	return ColorRelease(b.Name, b.Live)
}

func (b *State) SpareRelease() string {
	if b.Spare == "" {
		return ""
	}
	return ColorRelease(b.Name, b.Spare)
}

// errNotBlueGreen: release name exists and is not a router.
func errNotBlueGreen(name, ns string) error {
	return errdefs.Fixable(errdefs.ErrExists, []errdefs.Fix{{See: []string{"status", name, "-n", ns}}},
		"release %q in namespace %q is not a blue-green app (it was installed without --strategy blue-green): upgrade it without --strategy, or install the blue-green app under another name", name, ns)
}

// routerState reads the router release name: nil when there is no
// release of that name (or it was uninstalled), errNotBlueGreen when it is
// another release.
func (b *Client) routerState(name string) (*State, *release.Record, error) {
	last, err := b.rel.Stored(name, 0)
	if err != nil || !last.Installed() {
		return nil, nil, nil
	}
	st := parseRouter(last)
	if st == nil {
		return nil, last, errNotBlueGreen(name, b.ns)
	}
	return st, last, nil
}

// parseRouter is the state a router release records; nil for a release
// that is not a router.
func parseRouter(rel *release.Record) *State {
	if rel == nil || rel.Annotations[annBlueGreen] != "router" {
		return nil
	}
	a := rel.Annotations
	st := &State{Name: rel.Name, Live: a[annLive], Spare: a[annSpare], router: rel}
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var obj struct {
			Kind     string
			Metadata struct{ Name string } `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &obj) == nil && obj.Kind == "Service" && obj.Metadata.Name != "" {
			st.Services = append(st.Services, obj.Metadata.Name)
		}
	}
	sort.Strings(st.Services)
	return st
}

// Read is app name's blue/green state: the colour its stable
// Services select is live (Record says what its router records, when that
// differs); errdefs.ErrNotFound when name is not a blue-green app, ErrConflict
// when its stable Services do not all select one colour.
func (b *Client) Read(ctx context.Context, name string) (*State, error) {
	if err := b.rel.Reachable(); err != nil {
		return nil, err
	}
	st, err := b.blueGreenNow(ctx, name)
	if err == nil && st == nil {
		err = errdefs.Fixable(errdefs.ErrNotFound, nil, "release %q in namespace %q is not a blue-green app", name, b.ns)
	}
	return st, err
}

// blueGreenNow is app name's state as its stable Services make it (truth),
// changing nothing; nil when there is no release of that name.
func (b *Client) blueGreenNow(ctx context.Context, name string) (*State, error) {
	st, _, err := b.routerState(name)
	if err != nil || st == nil {
		return nil, err
	}
	return b.truth(ctx, st)
}

// IsApp reports whether name is a blue-green app's router.
func (b *Client) IsApp(name string) bool {
	last, err := b.rel.Stored(name, 0)
	return err == nil && last.Installed() && parseRouter(last) != nil
}

// UnboundRequirements lists the requirements of the root plan p installs
// in the app's release (not bound to a provider), sorted.
func UnboundRequirements(p *plan.Plan) []string {
	var out []string
	for _, n := range p.Root.Requires {
		if _, ok := p.Bound[n.Path]; !ok {
			out = append(out, n.Path)
		}
	}
	sort.Strings(out)
	return out
}

// errUnbound refuses blue-green for requirements installed in the app.
func errUnbound(name string, unbound []string) error {
	binds := make([]string, len(unbound))
	for i, u := range unbound {
		binds[i] = "--bind " + u + "=RELEASE"
	}
	return errdefs.Fixable(errdefs.ErrInvalid, nil,
		"blue-green upgrade of %q refused: requirement %s would be installed in each colour (stateful infrastructure is never duplicated); bind it to an installed provider release with %s (see docs/bindings.md)",
		name, strings.Join(unbound, ", "), strings.Join(binds, " "))
}
