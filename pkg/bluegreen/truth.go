package bluegreen

// Which colour serves: what the stable Services select, read from the
// cluster, made the router's record when they disagree.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/release"
)

// holdRouter takes the lease of app name's router release for op and
// reads which colour is live (nil: no blue-green app of that name): the
// colour its stable Services select (truth), whatever the router's record
// says. Taking the lease marks a router revision left pending by an
// operation that stopped failed (begin); then, for an upgrade or a prune,
// the router's record is made to agree with the Services first
// (reconcile). A rollback records what it switches to itself; with Services
// that do not all select one colour it is the fix (repair): refused for
// the others. The caller ends the lease with end, once err is nil.
func (b *Client) holdRouter(ctx context.Context, op release.Operation, name string) (context.Context, func(), *State, error) {
	if err := b.rel.Reachable(); err != nil {
		return nil, nil, nil, err
	}
	ctx, end, err := b.rel.Hold(ctx, op, name)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (context.Context, func(), *State, error) {
		end()
		return nil, nil, nil, err
	}
	rec, _, err := b.routerState(name)
	if err != nil {
		return fail(err)
	}
	if rec == nil {
		return ctx, end, nil, nil
	}
	s, err := b.served(ctx, rec)
	if err != nil {
		return fail(err)
	}
	st, err := b.truthOf(rec, s)
	if err != nil {
		if op != release.OpRollback {
			return fail(err)
		}
		if st, err = b.repair(rec, s); err != nil {
			return fail(err)
		}
		return ctx, end, st, nil
	}
	if op == release.OpRollback {
		st.Reconciled = recordNote(rec.router, st)
		return ctx, end, st, nil
	}
	if st, err = b.reconcile(ctx, st); err != nil {
		return fail(err)
	}
	return ctx, end, st, nil
}

// servedBy is what the stable Services of a blue-green app select, read
// from the cluster: for each one found, by name, the colour its selector
// names ("" for neither).
type servedBy map[string]string

// color is the colour every Service found selects ("" when none was
// found); ok is false when they do not all select one colour.
func (s servedBy) color() (color string, ok bool) {
	for _, col := range s {
		if col == "" || (color != "" && col != color) {
			return "", false
		}
		color = col
	}
	return color, true
}

// says is what each Service selects, in name order: "wiki selects
// wiki-green, wiki-admin selects neither colour".
func (s servedBy) says(app string) string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(s)) {
		if s[n] == "" {
			out = append(out, n+" selects neither colour")
		} else {
			out = append(out, n+" selects "+ColorRelease(app, s[n]))
		}
	}
	return strings.Join(out, ", ")
}

// selectedColor is the colour of app whose release selector sel names
// (in one of its values, as RouterServices requires of a colour's
// Service); "" for neither, or both.
func selectedColor(app string, sel map[string]string) string {
	got := ""
	for _, col := range Colors {
		rel := ColorRelease(app, col)
		for _, v := range sel {
			if v == rel || strings.HasPrefix(v, rel+"-") {
				if got != "" && got != col {
					return ""
				}
				got = col
			}
		}
	}
	return got
}

// served reads the stable Services of app st from the cluster: those its
// router's last revision (which an operation that stopped may have left
// unapplied, or half-applied) and the last it completed name. Without a
// Kubernetes client there is nothing to read (none found).
func (b *Client) served(ctx context.Context, st *State) (servedBy, error) {
	if st.router == nil {
		return servedBy{}, nil
	}
	names := map[string]bool{}
	for _, r := range []*release.Record{st.router, b.rel.Base(st.router.Name)} {
		if rs := parseRouter(r); rs != nil {
			for _, n := range rs.Services {
				names[n] = true
			}
		}
	}
	return b.readServed(ctx, b.ns, st.Name, slices.Sorted(maps.Keys(names)))
}

// readServed reads the stable Services names of app in namespace ns (see
// served).
func (b *Client) readServed(ctx context.Context, ns, app string, names []string) (servedBy, error) {
	s := servedBy{}
	if len(names) == 0 {
		return s, nil
	}
	cs, err := b.rel.Clientset()
	if err != nil || cs == nil {
		return s, err
	}
	for _, n := range names {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("blue-green app %q: reading its stable Service %s, which says which colour serves: %w", app, n, err)
		}
		s[n] = selectedColor(app, svc.Spec.Selector)
	}
	return s, nil
}

// truth is app st (as its router records it) as its stable Services make
// it, read from the cluster; see truthOf.
func (b *Client) truth(ctx context.Context, st *State) (*State, error) {
	s, err := b.served(ctx, st)
	if err != nil {
		return nil, err
	}
	return b.truthOf(st, s)
}

// truthOf is app st (as its router records it) as its stable Services s
// make it: the colour they select is live, and the other one the spare
// when it is installed and the record knew it as the app's; Record is st
// when it says otherwise. When no stable Service is found (never applied,
// or deleted) the record is all there is. Services that do not all select
// one colour are refused: which one serves is not known, and a rollback of
// the app is the fix (repair).
func (b *Client) truthOf(st *State, s servedBy) (*State, error) {
	now, ok := servedTruth(st, s, b.installed)
	if !ok {
		fixes := []errdefs.Fix{{See: []string{"history", st.Name, "-n", b.ns}}}
		to := "neither colour is deployed to point them at"
		if r := b.repairColor(st); r != "" {
			fixes = []errdefs.Fix{{Run: []string{"rollback", st.Name, "-n", b.ns}}}
			to = "a rollback of the app points them all at " + ColorRelease(st.Name, r) + ", the colour its router last switched to completely"
		}
		return nil, errdefs.Fixable(errdefs.ErrConflict, fixes,
			"blue-green app %q: its stable Services do not all select one colour (%s): which one serves is not known, so nothing is switched, upgraded or removed; %s", st.Name, s.says(st.Name), to)
	}
	return now, nil
}

// servedTruth is truthOf without its error: ok is false when the Services
// s do not all select one colour. installed says whether a colour's
// release is installed.
func servedTruth(st *State, s servedBy, installed func(release string) bool) (_ *State, ok bool) {
	col, ok := s.color()
	if !ok {
		return nil, false
	}
	now := *st
	now.Record = nil
	if col == "" || col == st.Live {
		return &now, true
	}
	now.Live, now.Spare = col, ""
	if other := OtherColor(col); (other == st.Live || other == st.Spare) && installed(ColorRelease(st.Name, other)) {
		now.Spare = other
	}
	rec := *st
	now.Record = &rec
	return &now, true
}

// repairColor is the colour the stable Services of app st are all pointed
// at when they do not agree: the live colour of the router's last
// completed revision (what it last switched to completely), else the other
// one, whichever is deployed; "" when neither is.
func (b *Client) repairColor(st *State) string {
	first := ""
	if base := parseRouter(b.rel.Base(st.router.Name)); base != nil {
		first = base.Live
	}
	for _, col := range []string{first, OtherColor(first)} {
		if col == "" {
			continue
		}
		if r, err := b.rel.Stored(ColorRelease(st.Name, col), 0); err == nil && r.Deployed() {
			return col
		}
	}
	return ""
}

// repair is the rollback of app rec whose stable Services s do not all
// select one colour: it points them all at repairColor, the other colour
// (installed, and known to the record) its spare.
func (b *Client) repair(rec *State, s servedBy) (*State, error) {
	col := b.repairColor(rec)
	if col == "" {
		return nil, errdefs.Fixable(errdefs.ErrConflict, []errdefs.Fix{{See: []string{"history", rec.Name, "-n", b.ns}}},
			"blue-green app %q: its stable Services do not all select one colour (%s), and neither colour is deployed to point them at", rec.Name, s.says(rec.Name))
	}
	st := &State{Name: rec.Name, Live: col, Services: rec.Services, router: rec.router, repair: true}
	if other := OtherColor(col); (other == rec.Live || other == rec.Spare) && b.installed(ColorRelease(rec.Name, other)) {
		st.Spare = other
	}
	r := *rec
	st.Record = &r
	st.Reconciled = fmt.Sprintf("blue-green app %q: its stable Services did not all select one colour (%s)", rec.Name, s.says(rec.Name))
	return st, nil
}

// installed reports whether release name is installed (recorded, and not
// uninstalled).
func (b *Client) installed(name string) bool {
	r, err := b.rel.Stored(name, 0)
	return err == nil && r.Installed()
}

// colours says which colours b has ("no blue-green app" for nil): "live wiki-green, spare wiki-blue",
// "live wiki-green, no spare", "no live colour".
func colours(b *State) string {
	if b == nil {
		return "no blue-green app"
	}
	if b.Live == "" {
		return "no live colour"
	}
	spare := "no spare"
	if b.Spare != "" {
		spare = "spare " + b.SpareRelease()
	}
	return "live " + b.LiveRelease() + ", " + spare
}

// recordNote says how the router's last revision last differs from now,
// the app as its stable Services make it; "" when it is deployed and
// records now's colours.
func recordNote(last *release.Record, now *State) string {
	rec := parseRouter(last)
	if rec == nil {
		return ""
	}
	agree := rec.Live == now.Live && rec.Spare == now.Spare
	if agree && last.Deployed() {
		return ""
	}
	note := fmt.Sprintf("blue-green app %q: its router's revision %d (%s)", now.Name, last.Revision, last.Status)
	if strings.HasPrefix(last.Description, release.RecoveredNote) {
		note = fmt.Sprintf("blue-green app %q: its router's revision %d, left pending by an operation that stopped (marked %s),", now.Name, last.Revision, last.Status)
	}
	note += " records " + colours(rec)
	switch {
	case agree:
		return note + ", as its stable Services have it"
	case now.Live == rec.Live:
		return note + "; its stable Services select " + now.LiveRelease()
	case now.Live == "":
		return note + "; it has no stable Service in the cluster"
	}
	return note + ", but its stable Services select " + now.LiveRelease()
}

// reconcile makes the router's record agree with now, app st as its stable
// Services make it, before an operation goes on: when its last revision is
// not deployed (failed, or left pending by an operation that stopped and
// marked failed when the lease was taken) or records other colours, a
// router upgrade records now's (its Services already select now's live
// colour: nothing is switched). A revision still pending (no lease could
// be taken: its operation may run) is left to Helm, which refuses to
// upgrade over it; a live colour not installed is left to the operation.
func (b *Client) reconcile(ctx context.Context, now *State) (*State, error) {
	last := now.router
	note := recordNote(last, now)
	if note == "" || last.Pending() || (now.Live != "" && !b.installed(now.LiveRelease())) {
		now.Reconciled = note
		return now, nil
	}
	h, err := b.heldBy(ctx, last)
	if err != nil {
		return nil, err
	}
	next := &State{Name: now.Name, Live: now.Live, Spare: now.Spare}
	if err := b.route(ctx, next, h); err != nil {
		return nil, fmt.Errorf("%s: recording that: %w", note, err)
	}
	rel, err := b.rel.Stored(now.Name, 0)
	if err != nil {
		return nil, err
	}
	next.router = rel
	next.Reconciled = fmt.Sprintf("%s: recorded %s (revision %d)", note, colours(next), rel.Revision)
	return next, nil
}
