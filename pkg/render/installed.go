package render

import (
	"encoding/json"
	"fmt"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/bundlesh/bundle/pkg/plan"
)

// Resolution is the plan's resolved list (plan.Plan.Resolved) as the
// release installs it with vals (Values' result): a requirement whose
// condition (or an ancestor's) is false is marked Disabled, with that
// condition; one the user points at an existing service (or below one) is
// marked External. Helm decides the conditions, as it does when it
// installs the composed chart.
func Resolution(p *plan.Plan, vals map[string]any) ([]plan.Resolved, error) {
	external := externals(p, vals)
	c := compose(p.Root, true, -1, external)
	replaceValues(p, c)
	if err := chartutil.ProcessDependencies(c, deepCopyMap(vals)); err != nil {
		return nil, fmt.Errorf("composing %s: %w", p.Root.Bundle, err)
	}
	installed := map[string]bool{}
	var walk func(c *chart.Chart, path string)
	walk = func(c *chart.Chart, path string) {
		for _, d := range c.Dependencies() {
			sub := d.Name()
			if path != "" {
				sub = path + "." + sub
			}
			installed[sub] = true
			walk(d, sub)
		}
	}
	walk(c, "")
	// Why each instance is absent: its own condition, or an ancestor's;
	// an existing service.
	why := map[string]plan.Resolved{}
	var mark func(n *plan.Node, inherited plan.Resolved)
	mark = func(n *plan.Node, inherited plan.Resolved) {
		for _, child := range n.Requires {
			w := inherited
			switch {
			case w.Disabled || w.External:
			case external[child.Path] != nil && p.Bound[child.Path] == nil:
				w.External = true
			case !installed[child.Path] && p.Bound[child.Path] == nil:
				w.Disabled, w.Condition = true, child.Requirement.Condition
			}
			why[child.Path] = w
			mark(child, w)
		}
	}
	mark(p.Root, plan.Resolved{})
	out := p.Resolved()
	for i := range out {
		w := why[out[i].Instance]
		out[i].Disabled, out[i].Condition, out[i].External = w.Disabled, w.Condition, w.External
	}
	return out, nil
}

// RecordResolution records Resolution in composed chart c (made by Chart
// from the same plan): the release stores what it installed.
func RecordResolution(p *plan.Plan, c *chart.Chart, vals map[string]any) error {
	res, err := Resolution(p, vals)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	c.Metadata.Annotations[plan.ResolvedAnnotation] = string(b)
	return nil
}
