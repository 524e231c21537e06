package bluegreen

// The router: the release of a blue-green app that holds its stable
// Services, the live colour's Ingresses and the app's claims.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
	"github.com/bundlesh/bundle/pkg/render"
)

// ingressFile is where a router's chart keeps colour c's Ingresses.
func ingressFile(c string) string { return "colors/" + c + "/ingresses.yaml" }

// heldBy reads what router release rel holds (nothing for nil): its
// colours' Ingresses, and its claims as it carries them (claimFile), so
// that a switch or a prune renders them as they were, whatever became of
// the providers: each from its provider's bundle as the repository serves
// it, with the provider's outputs the router carries
// (release.Client.ClaimBinding). A router that carries none (made by an
// earlier version) has its claims made again from the providers, bound as
// a new binding is.
func (b *Client) heldBy(ctx context.Context, rel *release.Record) (holdings, error) {
	h := holdings{made: map[string]render.HeldClaim{}, ingresses: map[string]string{}}
	if rel == nil {
		return h, nil
	}
	for _, col := range Colors {
		if text, ok := rel.Files[ingressFile(col)]; ok {
			h.ingresses[col] = string(text)
		}
	}
	for _, r := range rel.Resolved() {
		if !r.Claim || r.Bound == "" {
			continue
		}
		var carried *render.HeldClaim
		if data, ok := rel.Files[claimFile(r.Instance)]; ok {
			carried = &render.HeldClaim{}
			if err := json.Unmarshal(data, carried); err != nil {
				return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %s is unreadable: %s", rel.Name, r.Instance, claimFile(r.Instance), err)
			}
		}
		bd, err := b.rel.ClaimBinding(ctx, rel.Name, r, carried)
		if err != nil {
			return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %w", rel.Name, r.Instance, err)
		}
		hc, ok := render.HeldClaims(map[string]*plan.Binding{r.Instance: bd}, render.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace})[r.Instance]
		if !ok {
			return h, fmt.Errorf("blue-green app %q: the claim it holds for %s cannot be made again: %s (%s) offers no claims now", rel.Name, r.Instance, r.Bound, bd.Provider)
		}
		h.claims = append(h.claims, r)
		h.made[r.Instance] = hc
	}
	return h, nil
}

// claimFile is where a router's chart carries its claim of instance inst.
func claimFile(inst string) string { return "claims/" + inst + ".json" }

// route installs or upgrades the router so that its Services select
// st.Live's pods (none without a live colour: the first install's claims
// come before its colour) and its Ingresses are st.Live's, with the claims
// h holds, recording st.
func (b *Client) route(ctx context.Context, st *State, h holdings) error {
	var services string
	if st.Live != "" {
		live, err := b.rel.Stored(st.LiveRelease(), 0)
		if err != nil {
			return fmt.Errorf("blue-green app %q: live colour %s: %w", st.Name, st.LiveRelease(), err)
		}
		manifest, names, err := RouterServices(live.Manifest, st.Name, st.Live)
		if err != nil {
			return err
		}
		services, st.Services = manifest, names
	}
	ann := map[string]string{annBlueGreen: "router", annLive: st.Live, annSpare: st.Spare}
	sort.Slice(h.claims, func(i, j int) bool { return h.claims[i].Instance < h.claims[j].Instance })
	if len(h.claims) > 0 {
		rec, err := json.Marshal(h.claims)
		if err != nil {
			return err
		}
		ann[plan.ResolvedAnnotation] = string(rec)
	}
	// The manifests are the chart's files, which its templates include
	// as they are: a "{{" in them is not a template's.
	chrt := &chart.Chart{
		Metadata: &chart.Metadata{
			APIVersion: chart.APIVersionV2, Name: routerChart, Version: routerVersion, Type: "application",
			Description: "the stable Services, Ingresses and claims of blue-green app " + st.Name,
			Annotations: ann,
		},
		Files:     []*common.File{{Name: "services.yaml", Data: []byte(services)}},
		Templates: []*common.File{{Name: "templates/services.yaml", Data: []byte(`{{ .Files.Get "services.yaml" }}`)}},
	}
	for _, col := range Colors {
		text := h.ingresses[col]
		if text == "" || (col != st.Live && col != st.Spare) {
			continue
		}
		chrt.Files = append(chrt.Files, &common.File{Name: ingressFile(col), Data: []byte(text)})
		if col == st.Live {
			chrt.Templates = append(chrt.Templates, &common.File{Name: "templates/ingresses.yaml", Data: []byte(`{{ .Files.Get "` + ingressFile(col) + `" }}`)})
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(h.made)) {
		data, err := json.Marshal(h.made[inst])
		if err != nil {
			return err
		}
		chrt.Files = append(chrt.Files, &common.File{Name: claimFile(inst), Data: data})
	}
	vals := render.AddHeldClaims(chrt, h.made)
	desc := "no live colour yet"
	if st.Live != "" {
		desc = "live: " + st.LiveRelease()
	}
	if st.Spare != "" {
		desc += ", spare: " + st.SpareRelease()
	}
	if len(h.claims) > 0 {
		insts := make([]string, len(h.claims))
		for i, r := range h.claims {
			insts[i] = r.Instance
		}
		desc += ", claims: " + strings.Join(insts, " ")
	}
	// Applied as every release's objects are: server-side, converging,
	// so that drift and diff read the router as any release.
	verb := "routing"
	if last, err := b.rel.Stored(st.Name, 0); err == nil && last.Installed() {
		verb = "switching"
	}
	if _, err := b.rel.Put(ctx, release.PutOptions{Name: st.Name, Chart: chrt, Values: vals, Description: desc, MaxHistory: 10}); err != nil {
		return fmt.Errorf("%s blue-green app %q to %s: %w", verb, st.Name, routeTarget(st), err)
	}
	return nil
}

// routeTarget says what route routes st to, for its errors.
func routeTarget(st *State) string {
	if st.Live == "" {
		return "no colour yet (its claims first)"
	}
	return st.LiveRelease()
}
