// Package render composes a bundle and the infrastructure it requires into
// one Helm chart, wires each requirement's outputs into the app, and renders
// Kubernetes manifests with Helm's engine.
//
// The flow is: NewPlan resolves the requirement graph and loads every
// bundle; Plan.Chart composes the chart (requirements become subcharts under
// their instance names); Plan.Values computes each requirement's outputs with
// its final values and hands them to its parent under
// .Values.requires.INSTANCE; Template renders the manifests in Helm's
// install order.
package render

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/resolve"
)

// Loader lists, resolves and loads bundles; repo.Set implements it.
type Loader interface {
	resolve.Source
	Load(ctx context.Context, ref resolve.Ref, v *semver.Version) (*bundle.Bundle, error)
}

// Plan is a resolved composition: the root bundle and, recursively, the
// bundles its requirements resolved to.
type Plan struct {
	Root     *Node
	Solution resolve.Solution
}

// Node is one bundle instance in the composition tree.
type Node struct {
	// Path is the instance path from the root ("" for the root,
	// "database", "cache.sentinel", ...).
	Path string
	// Requirement is the requires: entry that made this node; nil for the
	// root.
	Requirement *bundle.Requirement
	Bundle      *bundle.Bundle
	Requires    []*Node
}

// Resolved is one entry of a plan's summary, recorded in the release.
type Resolved struct {
	Instance   string `json:"instance"`
	Bundle     string `json:"bundle"`
	Version    string `json:"version"`
	Repository string `json:"repository"`
}

// NewPlan resolves root's requirements through l and loads the chosen
// bundles into a tree.
func NewPlan(ctx context.Context, l Loader, root *bundle.Bundle, opts resolve.Options) (*Plan, error) {
	sol, err := resolve.Resolve(ctx, l, root.Requirements(), opts)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", root, err)
	}
	p := &Plan{Solution: sol, Root: &Node{Bundle: root}}
	if err := p.expand(ctx, l, p.Root, []string{root.Name}); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Plan) expand(ctx context.Context, l Loader, n *Node, chain []string) error {
	for i := range n.Bundle.File.Requires {
		r := &n.Bundle.File.Requires[i]
		if slices.Contains(chain, r.Bundle) {
			return fmt.Errorf("dependency cycle: %s -> %s", strings.Join(chain, " -> "), r.Bundle)
		}
		sel, ok := p.Solution[r.Bundle]
		if !ok {
			return fmt.Errorf("internal error: %s not in the solution", r.Bundle)
		}
		b, err := l.Load(ctx, sel.Ref, sel.Version)
		if err != nil {
			return fmt.Errorf("%s requires %s %s %s: %w", n.Bundle, r.Name, r.Bundle, r.Version, err)
		}
		for _, want := range r.Outputs {
			if !slices.ContainsFunc(b.File.Outputs, func(o bundle.Output) bool { return o.Name == want }) {
				return fmt.Errorf("%s requires output %q of %s (%s), which offers %s", n.Bundle, want, r.Name, b, outputNames(b))
			}
		}
		child := &Node{Path: joinPath(n.Path, r.Name), Requirement: r, Bundle: b}
		n.Requires = append(n.Requires, child)
		if err := p.expand(ctx, l, child, append(chain, r.Bundle)); err != nil {
			return err
		}
	}
	return nil
}

// Resolved lists every instance of the plan with its bundle and version, in
// tree order.
func (p *Plan) Resolved() []Resolved {
	var out []Resolved
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, c := range n.Requires {
			out = append(out, Resolved{Instance: c.Path, Bundle: c.Bundle.Name, Version: c.Bundle.Version.String(), Repository: c.Requirement.Repository})
			walk(c)
		}
	}
	walk(p.Root)
	return out
}

// ResolvedAnnotation is the Chart.yaml annotation of a composed chart that
// records the plan's resolved bundles as JSON; it is stored with the release.
const ResolvedAnnotation = "bundle.sh/resolved"

// ParseResolved reads ResolvedAnnotation back.
func ParseResolved(annotations map[string]string) ([]Resolved, error) {
	s, ok := annotations[ResolvedAnnotation]
	if !ok {
		return nil, nil
	}
	var out []Resolved
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("annotation %s: %w", ResolvedAnnotation, err)
	}
	return out, nil
}

func outputNames(b *bundle.Bundle) string {
	if len(b.File.Outputs) == 0 {
		return "no outputs"
	}
	names := make([]string, len(b.File.Outputs))
	for i, o := range b.File.Outputs {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
