package release

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

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// ingressFile is where a router's chart keeps colour c's Ingresses.
func ingressFile(c string) string { return "colors/" + c + "/ingresses.yaml" }

// heldBy reads what router release rel holds (nothing for nil): its
// colours' Ingresses, and its claims as it carries them (claimFile), so
// that a switch or a prune renders them as they were, whatever became of
// the providers: each from its provider's bundle as the repository serves
// it, with the provider's outputs the router carries (heldBinding). A
// router that carries none (made by an earlier version) has its claims
// made again from the providers, bound as a new binding is.
func (c *Client) heldBy(ctx context.Context, rel *helmrelease.Release) (held, error) {
	h := held{made: map[string]render.HeldClaim{}, ingresses: map[string]string{}}
	if rel == nil || rel.Chart == nil {
		return h, nil
	}
	files := map[string][]byte{}
	for _, f := range rel.Chart.Files {
		files[f.Name] = f.Data
	}
	for _, col := range Colors {
		if text, ok := files[ingressFile(col)]; ok {
			h.ingresses[col] = string(text)
		}
	}
	for _, r := range recordedBindings(rel) {
		if !r.Claim || r.Bound == "" {
			continue
		}
		ns, prov, _ := strings.Cut(r.Bound, "/")
		bind := plan.Bind{Instance: r.Instance, Namespace: ns, Release: prov}
		var b *plan.Binding
		if data, ok := files[claimFile(r.Instance)]; ok {
			var hc render.HeldClaim
			if err := json.Unmarshal(data, &hc); err != nil {
				return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %s is unreadable: %s", rel.Name, r.Instance, claimFile(r.Instance), err)
			}
			var err error
			if b, err = c.heldBinding(ctx, rel.Name, bind, r, hc); err != nil {
				return h, err
			}
		} else {
			// Made by an earlier version, which did not carry it: made
			// again from the provider.
			con, err := bundle.ParseConstraint(r.Constraint)
			if err != nil {
				con, _ = semver.NewConstraint("*")
			}
			req := &bundle.Requirement{Name: r.Instance, Bundle: r.Bundle, Repository: r.Repository, Version: r.Constraint, Constraint: con}
			if b, err = c.binding(ctx, bind, req, true, rel.Name); err != nil {
				return h, fmt.Errorf("blue-green app %q: the claim it holds for %s: %w", rel.Name, r.Instance, err)
			}
		}
		hc, ok := render.HeldClaims(map[string]*plan.Binding{r.Instance: b}, render.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace})[r.Instance]
		if !ok {
			return h, fmt.Errorf("blue-green app %q: the claim it holds for %s cannot be made again: %s (%s) offers no claims now", rel.Name, r.Instance, r.Bound, b.Provider)
		}
		h.claims = append(h.claims, r)
		h.made[r.Instance] = hc
	}
	return h, nil
}

// heldBinding is the binding router app's claim r was made with, as the
// router carries it (hc): the provider's bundle r names, as r's
// repository serves it, whose digest must be the one hc recorded (when
// it recorded one), and the provider's outputs hc was made with. Nothing
// else of hc is used: the claim's templates and its identity are made
// again from the bundle and the router (render.HeldClaims), so that a
// router record rewritten in the cluster renders no template of its own.
func (c *Client) heldBinding(ctx context.Context, app string, bind plan.Bind, r plan.Resolved, hc render.HeldClaim) (*plan.Binding, error) {
	v, err := semver.NewVersion(r.Version)
	if err != nil {
		return nil, fmt.Errorf("blue-green app %q: the claim it holds for %s: version %q: %v", app, r.Instance, r.Version, err)
	}
	full, err := c.loadServed(ctx, r.Repository, r.Bundle, v)
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrFailed, err, "blue-green app %q: the claim it holds for %s (rendered from the provider's bundle as its repository serves it): %s", app, r.Instance, err)
	}
	got, err := plan.Digest(r.Repository, full)
	if err != nil {
		return nil, err
	}
	switch {
	case hc.Digest == "":
		c.log("blue-green app %q: the claim it holds for %s records no digest (made by an earlier version of bundle): rendered from %s %s as %s serves it (%s)", app, r.Instance, r.Bundle, v, r.Repository, got)
	case hc.Digest != got:
		return nil, errdefs.Fixable(errdefs.ErrStale, nil,
			"blue-green app %q: the claim it holds for %s was made from %s %s with digest %s, but %s serves %s: the app's record or the repository changed", app, r.Instance, r.Bundle, v, hc.Digest, r.Repository, got)
	}
	out := &plan.Binding{Bind: bind, Provider: full, Repository: r.Repository, Outputs: hc.HeldOutputs(), Claim: true, Digest: got}
	if bind.Namespace != c.namespace {
		// Granted: the claim's Secret is copied from the grant's.
		out.Grant = &plan.Grant{Namespace: bind.Namespace, Name: render.GrantName(bind.Release, plan.Consumer{Namespace: c.namespace, Release: app, Instance: r.Instance})}
	}
	return out, nil
}

// claimFile is where a router's chart carries its claim of instance inst.
func claimFile(inst string) string { return "claims/" + inst + ".json" }

// route installs or upgrades the router so that its Services select
// st.Live's pods (none without a live colour: the first install's claims
// come before its colour) and its Ingresses are st.Live's, with the claims
// h holds, recording st.
func (c *Client) route(ctx context.Context, st *BlueGreen, h held) error {
	var services string
	if st.Live != "" {
		live, err := c.cfg.Releases.Last(st.LiveRelease())
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
		Files:     []*chart.File{{Name: "services.yaml", Data: []byte(services)}},
		Templates: []*chart.File{{Name: "templates/services.yaml", Data: []byte(`{{ .Files.Get "services.yaml" }}`)}},
	}
	for _, col := range Colors {
		text := h.ingresses[col]
		if text == "" || (col != st.Live && col != st.Spare) {
			continue
		}
		chrt.Files = append(chrt.Files, &chart.File{Name: ingressFile(col), Data: []byte(text)})
		if col == st.Live {
			chrt.Templates = append(chrt.Templates, &chart.File{Name: "templates/ingresses.yaml", Data: []byte(`{{ .Files.Get "` + ingressFile(col) + `" }}`)})
		}
	}
	for _, inst := range slices.Sorted(maps.Keys(h.made)) {
		data, err := json.Marshal(h.made[inst])
		if err != nil {
			return err
		}
		chrt.Files = append(chrt.Files, &chart.File{Name: claimFile(inst), Data: data})
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
	// Applied as every release's objects are: server-side, converging
	// (apply.go), so that drift and diff read the router as any release.
	cfg, err := c.opConfig(ctx, st.Name, WaitOptions{})
	if err != nil {
		return err
	}
	if last, err := c.cfg.Releases.Last(st.Name); err == nil && last.Info.Status != helmrelease.StatusUninstalled {
		up := action.NewUpgrade(cfg)
		up.Namespace = c.namespace
		up.Description = desc
		up.MaxHistory = 10
		up.ResetValues = true
		_, err = up.RunWithContext(ctx, st.Name, chrt, vals)
		if err != nil {
			return fmt.Errorf("switching blue-green app %q to %s: %w", st.Name, routed(st), err)
		}
		return nil
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = st.Name
	inst.Namespace = c.namespace
	inst.Description = desc
	inst.Replace = true
	if _, err := inst.RunWithContext(ctx, chrt, vals); err != nil {
		return fmt.Errorf("routing blue-green app %q to %s: %w", st.Name, routed(st), err)
	}
	return nil
}

// routed says what route routes st to, for its errors.
func routed(st *BlueGreen) string {
	if st.Live == "" {
		return "no colour yet (its claims first)"
	}
	return st.LiveRelease()
}
