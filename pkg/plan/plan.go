// Package plan turns what a user asks for (a bundle reference, a version
// constraint, values, a lock, installed versions to keep) into a plan: the
// root bundle and, recursively, the bundle every requirement resolved to,
// loaded and checked, in exactly one resolution. It touches no cluster and
// renders nothing: package render composes and renders a plan, package
// release applies it to a cluster.
//
// The flow is: Read reads a Source (reference, values, no resolution yet,
// so bad input fails first); Input.Resolve resolves the requirement graph
// once (Resolve, for a bundle already loaded) and loads every bundle into a
// tree of Nodes; Plan.Lock writes the lock file of a plan.
package plan

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
	// Decisions and Conflicts are the solver's statistics.
	Decisions, Conflicts int
	// Values are the user's values (files and settings, merged), as Read
	// found them.
	Values map[string]any
	// RootValues, when not nil, replace the composed chart's own values
	// (the root's values.yaml and each requirement's values:) in Chart and
	// Values, as helm upgrade --reuse-values replaces a chart's values with
	// the previous release's.
	RootValues map[string]any
	// LockedImages, when not nil, are the images of the root's
	// bundle.lock, resolved with Options.Locked: render and release
	// rewrite every image of the manifests to its locked digest, and
	// refuse one the lock does not hold. nil (not locked, or a lock that
	// records no images) pins nothing.
	LockedImages []bundle.LockedImage
	// Bound holds, by instance path, the requirements bound to installed
	// releases: nothing of them is composed, their outputs are the
	// provider's.
	Bound map[string]*Binding
	// Repository is where the root bundle came from; empty for a
	// directory or an archive.
	Repository string
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

// Level is 0 for the root, 1 for a direct requirement of the root, 2 for
// theirs...
func (n *Node) Level() int {
	if n.Path == "" {
		return 0
	}
	return strings.Count(n.Path, ".") + 1
}

// Height is the height of the tree under n: 0 for a bundle without
// requirements.
func (n *Node) Height() int {
	d := 0
	for _, c := range n.Requires {
		if cd := c.Height() + 1; cd > d {
			d = cd
		}
	}
	return d
}

// Resolved is one entry of a plan's summary, recorded in the release.
type Resolved struct {
	Instance   string `json:"instance"`
	Bundle     string `json:"bundle"`
	Version    string `json:"version"`
	Repository string `json:"repository"`
	// Bound, for a requirement bound to an installed release, is that
	// release (NAMESPACE/NAME), and Constraint the requirement's version
	// constraint, which the provider's upgrades must keep satisfying.
	Bound      string `json:"bound,omitempty"`
	Constraint string `json:"constraint,omitempty"`
	// Claim, for a bound requirement, says the app has a claim of its own
	// on the provider (Binding.Claim): its own database and user, say.
	// An upgrade keeps a binding recorded without one without, so that an
	// app is never moved to a new, empty database behind its back.
	Claim bool `json:"claim,omitempty"`
	// Disabled says nothing of the requirement is installed: its
	// condition, Condition (a values path), or an ancestor's, was false.
	Disabled  bool   `json:"disabled,omitempty"`
	Condition string `json:"condition,omitempty"`
	// External says nothing of the requirement is installed: the user
	// points it (or an ancestor) at an existing service (values under
	// INSTANCE.external).
	External bool `json:"external,omitempty"`
}

// Installed reports whether the release installed the requirement itself:
// neither bound to another release, disabled, nor an existing service.
func (r Resolved) Installed() bool { return r.Bound == "" && !r.Disabled && !r.External }

// Options tune resolution.
type Options struct {
	// Locked requires the resolution to be exactly the root's bundle.lock,
	// made from the current bundle.yaml, with every digest matching what
	// the sources serve.
	Locked bool
	// Update names bundles whose locked versions may move; UpdateAll lets
	// every one move. Versions in the lock are kept otherwise.
	Update    []string
	UpdateAll bool
	// Prefer adds versions to keep when they fit (the installed release's),
	// below the lock's, by bundle and repository (resolve.Options.Prefer).
	Prefer map[resolve.Ref]*semver.Version
	// Bound binds requirements of the root to installed releases: each
	// bound bundle's one version is the provider's.
	Bound []*Binding
}

// Resolve resolves root's requirements through l and loads the chosen
// bundles into a tree. Versions in the root's bundle.lock are kept unless
// opts says to move them.
func Resolve(ctx context.Context, l Loader, root *bundle.Bundle, opts Options) (*Plan, error) {
	if opts.Locked {
		if err := checkLockFresh(root); err != nil {
			return nil, err
		}
	}
	prefer := map[resolve.Ref]*semver.Version{}
	for k, v := range opts.Prefer {
		prefer[k] = v
	}
	if root.Lock != nil && !opts.UpdateAll {
		for _, e := range root.Lock.Bundles {
			if slices.Contains(opts.Update, e.Name) {
				continue
			}
			if v, err := semver.StrictNewVersion(e.Version); err == nil {
				prefer[lockedRef(e.Repository, e.Name)] = v
			}
		}
	}
	l, bound, err := bindSource(l, root, opts.Bound)
	if err != nil {
		return nil, err
	}
	reqs := root.Requirements()
	// Prefetch lists the versions of required bundles concurrently.
	res, err := resolve.Solve(ctx, resolve.Prefetch(ctx, l, reqs), reqs, resolve.Options{
		Prefer: prefer,
		Root:   &resolve.Selected{Ref: resolve.Ref{Name: root.Name}, Version: root.Version},
	})
	if err != nil {
		return nil, fmt.Errorf("resolving the requirements of %s:\n%w", root, boundConflict(err, bound))
	}
	p := &Plan{Solution: res.Solution, Root: &Node{Bundle: root}, Decisions: res.Decisions, Conflicts: res.Conflicts, Bound: bound}
	if err := p.expand(ctx, l, p.Root, []string{root.Name}); err != nil {
		return nil, err
	}
	if opts.Locked {
		if err := p.checkLocked(ctx, l); err != nil {
			return nil, err
		}
		p.LockedImages = root.Lock.Images
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
		if p.Bound[child.Path] != nil {
			continue // the provider release has its own requirements
		}
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
			r := Resolved{Instance: c.Path, Bundle: c.Bundle.Name, Version: c.Bundle.Version.String(), Repository: c.Requirement.Repository}
			if b := p.Bound[c.Path]; b != nil {
				r.Bound, r.Constraint, r.Claim = b.Target(), c.Requirement.Version, b.Claims() != nil
			}
			out = append(out, r)
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
