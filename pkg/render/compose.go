package render

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	common "helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
)

// outputsDir holds, in the stripped chart used to compute outputs, one
// template per output. Its base names never start with "_", so Helm's engine
// renders them.
const outputsDir = "templates/__bundle_outputs__/"

// Chart composes the plan into one Helm chart: each requirement becomes a
// subchart aliased to its instance name, with the requirement's values as
// defaults under that name. The result is a fresh copy; the bundles are not
// modified.
//
// A requirement the user points at an existing service (values under
// INSTANCE.external) is left out: nothing of it is installed.
func Chart(p *plan.Plan, user map[string]any) (*chart.Chart, error) {
	c := compose(p.Root, false, 0, externals(p, user))
	replaceValues(p, c)
	addClaims(p, c)
	res, err := json.Marshal(p.Resolved())
	if err != nil {
		return nil, err
	}
	if c.Metadata.Annotations == nil {
		c.Metadata.Annotations = map[string]string{}
	}
	c.Metadata.Annotations[plan.ResolvedAnnotation] = string(res)
	if p.Repository != "" {
		c.Metadata.Annotations[plan.RepositoryAnnotation] = p.Repository
	} else {
		// Not from a repository: none is recorded, whatever the root's
		// Chart.yaml says.
		delete(c.Metadata.Annotations, plan.RepositoryAnnotation)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("composing %s: %w", p.Root.Bundle, err)
	}
	return c, nil
}

// compose builds the chart for n. With strip, templates are dropped but for
// helpers, and the requirements at depth outputsAt (1 = direct) get one
// template per output.
func compose(n *plan.Node, strip bool, outputsAt int, external map[string]map[string]string) *chart.Chart {
	src := n.Bundle.Chart
	c := copyChart(src, strip)
	if c.Values == nil {
		c.Values = map[string]any{}
	}
	for _, child := range n.Requires {
		r := child.Requirement
		if external[child.Path] != nil {
			continue
		}
		c.Metadata.Dependencies = append(c.Metadata.Dependencies, &chart.Dependency{
			Name:       child.Bundle.Name,
			Version:    child.Bundle.Version.String(),
			Repository: r.Repository,
			Alias:      r.Name,
			Condition:  r.Condition,
		})
		if r.Values != nil {
			c.Values[r.Name] = deepCopyMap(r.Values)
		} else {
			c.Values[r.Name] = map[string]any{}
		}
		sub := compose(child, strip, outputsAt, external)
		if strip && child.Level() == outputsAt {
			for _, o := range child.Bundle.File.Outputs {
				sub.Templates = append(sub.Templates, &common.File{Name: outputsDir + o.Name, Data: []byte(o.Template)})
			}
		}
		c.AddDependency(sub)
	}
	return c
}

// copyChart copies what Helm mutates while installing (metadata,
// dependency list and flags, values), recursively for vendored subcharts.
// With strip, only helper templates (base name starting with "_") are kept.
func copyChart(src *chart.Chart, strip bool) *chart.Chart {
	md := *src.Metadata
	md.Dependencies = nil
	for _, d := range src.Metadata.Dependencies {
		dc := *d
		md.Dependencies = append(md.Dependencies, &dc)
	}
	if src.Metadata.Annotations != nil {
		md.Annotations = map[string]string{}
		for k, v := range src.Metadata.Annotations {
			md.Annotations[k] = v
		}
	}
	c := &chart.Chart{
		Metadata:  &md,
		Lock:      src.Lock,
		Templates: src.Templates,
		Values:    deepCopyMap(src.Values),
		Schema:    src.Schema,
		Files:     src.Files,
	}
	if strip {
		c.Templates = nil
		for _, t := range src.Templates {
			if strings.HasPrefix(path.Base(t.Name), "_") {
				c.Templates = append(c.Templates, t)
			}
		}
		c.Schema = nil
	}
	for _, d := range src.Dependencies() {
		c.AddDependency(copyChart(d, strip))
	}
	return c
}

// replaceValues puts RootValues in place of the composed root chart's values.
func replaceValues(p *plan.Plan, c *chart.Chart) {
	if p.RootValues != nil {
		c.Values = deepCopyMap(p.RootValues)
	}
}

// ReleaseOptions is what the templates see as .Release.
type ReleaseOptions struct {
	Name      string
	Namespace string
	Revision  int
	IsUpgrade bool
}

// Values returns the values to install the composed chart with: user
// values plus, for every requirement, its outputs under
// requires.INSTANCE of its parent. Outputs are rendered with the
// requirement's final values and release, deepest requirements first so
// that a bundle's outputs may use its own requirements' outputs.
func Values(p *plan.Plan, user map[string]any, rel ReleaseOptions) (map[string]any, error) {
	vals := deepCopyMap(user)
	if vals == nil {
		vals = map[string]any{}
	}
	external := externals(p, user)
	for _, path := range claimed(p, false) {
		outs, err := claimOutputs(p.Bound[path], path, rel)
		if err != nil {
			return nil, err
		}
		external[path] = outs
		if p.Bound[path].ClaimHolder != "" {
			continue // the holder's release renders the claim
		}
		iv, _ := vals[path].(map[string]any)
		if iv == nil {
			iv = map[string]any{}
			vals[path] = iv
		}
		iv[ClaimKey] = ClaimValues(p.Bound[path], path, rel)
	}
	for level := p.Root.Height(); level >= 1; level-- {
		outs, err := renderOutputs(p, vals, rel, level, external)
		if err != nil {
			return nil, err
		}
		for path, m := range external {
			outs[path] = m
		}
		if err := inject(p, vals, outs, level, external); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// Outputs renders what the root bundle offers its dependents (the outputs:
// of its bundle.yaml), given vals as Values returned them and the release.
func Outputs(p *plan.Plan, vals map[string]any, rel ReleaseOptions) (map[string]string, error) {
	if len(p.Root.Bundle.File.Outputs) == 0 {
		return map[string]string{}, nil
	}
	outs, err := renderOutputs(p, deepCopyMap(vals), rel, 0, externals(p, vals))
	if err != nil {
		return nil, err
	}
	if outs[""] == nil {
		return map[string]string{}, nil
	}
	return outs[""], nil
}

// renderOutputs renders the output templates of the requirements at one
// depth, returning them by instance path. Disabled requirements (condition
// false) are absent.
func renderOutputs(p *plan.Plan, vals map[string]any, rel ReleaseOptions, level int, external map[string]map[string]string) (map[string]map[string]string, error) {
	var root []bundle.Output
	if level == 0 {
		root = p.Root.Bundle.File.Outputs
	}
	return renderTemplates(p, vals, rel, level, external, root)
}

// renderTemplates renders, as renderOutputs does, the output templates of
// the requirements at one depth and the templates root of the root bundle
// (at key "" by their names).
func renderTemplates(p *plan.Plan, vals map[string]any, rel ReleaseOptions, level int, external map[string]map[string]string, root []bundle.Output) (map[string]map[string]string, error) {
	c := compose(p.Root, true, level, external)
	replaceValues(p, c)
	for _, o := range root {
		c.Templates = append(c.Templates, &common.File{Name: outputsDir + o.Name, Data: []byte(o.Template)})
	}
	if err := chartutil.ProcessDependencies(c, vals); err != nil {
		return nil, fmt.Errorf("composing %s: %w", p.Root.Bundle, err)
	}
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: max(rel.Revision, 1), IsInstall: !rel.IsUpgrade, IsUpgrade: rel.IsUpgrade}
	rv, err := commonutil.ToRenderValues(c, vals, opts, defaultCapabilities())
	if err != nil {
		return nil, fmt.Errorf("values for %s: %w", p.Root.Bundle, err)
	}
	files, err := engine.Render(c, rv)
	if err != nil {
		return nil, fmt.Errorf("rendering outputs: %w", err)
	}
	out := map[string]map[string]string{}
	for name, text := range files {
		dir, base := path.Split(name)
		if !strings.HasSuffix(dir, "/"+outputsDir) {
			continue
		}
		// ROOT/charts/a/charts/b/templates/__bundle_outputs__/host -> a.b
		parts := strings.Split(strings.TrimSuffix(dir, "/"+outputsDir), "/")
		var inst []string
		for i := 1; i+1 < len(parts); i += 2 {
			inst = append(inst, parts[i+1])
		}
		key := strings.Join(inst, ".")
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		out[key][base] = strings.TrimSpace(text)
	}
	return out, nil
}

// inject puts the outputs of the instances at one depth under requires.NAME
// of their parent's values, and checks that every output a requirement needs
// is non-empty.
func inject(p *plan.Plan, vals map[string]any, outs map[string]map[string]string, level int, external map[string]map[string]string) error {
	var walk func(n *plan.Node, parentVals map[string]any) error
	walk = func(n *plan.Node, parentVals map[string]any) error {
		for _, c := range n.Requires {
			childVals, _ := parentVals[c.Requirement.Name].(map[string]any)
			if childVals == nil {
				childVals = map[string]any{}
				parentVals[c.Requirement.Name] = childVals
			}
			if c.Level() < level {
				if external[c.Path] != nil {
					continue // an existing service: nothing below it is installed
				}
				if err := walk(c, childVals); err != nil {
					return err
				}
				continue
			}
			got, enabled := outs[c.Path]
			if !enabled {
				continue // disabled by its condition
			}
			reqs, _ := parentVals[bundle.RequiresKey].(map[string]any)
			if reqs == nil {
				reqs = map[string]any{}
				parentVals[bundle.RequiresKey] = reqs
			}
			m := map[string]any{}
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				m[k] = got[k]
			}
			reqs[c.Requirement.Name] = m
			for _, want := range c.Requirement.Outputs {
				if got[want] == "" {
					if b := p.Bound[c.Path]; b != nil {
						return fmt.Errorf("%s requires output %q of %s, bound to release %s (%s), which rendered empty: check that release's values", n.Bundle, want, c.Requirement.Name, b.Target(), b.Provider)
					}
					if external[c.Path] != nil {
						return fmt.Errorf("%s requires output %q of %s (an existing %s service), which is not given: set %s.external.%s", n.Bundle, want, c.Requirement.Name, c.Bundle.Name, c.Path, want)
					}
					return fmt.Errorf("%s requires output %q of %s (%s), which rendered empty: check the values of %s", n.Bundle, want, c.Requirement.Name, c.Bundle, c.Path)
				}
			}
		}
		return nil
	}
	return walk(p.Root, vals)
}

// externals finds the requirements the user satisfies with an existing
// service: values under INSTANCE.external (for a nested requirement, under
// its path), e.g. --set database.external.host=db.example.com. Their
// outputs are those values; nothing of them is installed. Secrets are named,
// never copied: give passwordSecret and passwordKey of a Secret you made.
//
// A requirement bound to an installed release (Plan.Bound) is external
// too, its outputs the provider's.
func externals(p *plan.Plan, user map[string]any) map[string]map[string]string {
	out := map[string]map[string]string{}
	for path, b := range p.Bound {
		out[path] = map[string]string{}
		for k, v := range b.Outputs {
			out[path][k] = v
		}
	}
	var walk func(n *plan.Node, vals map[string]any)
	walk = func(n *plan.Node, vals map[string]any) {
		for _, c := range n.Requires {
			if out[c.Path] != nil {
				continue // bound
			}
			cv, _ := vals[c.Requirement.Name].(map[string]any)
			if ext, ok := cv["external"].(map[string]any); ok && len(ext) > 0 {
				m := map[string]string{}
				for k, v := range ext {
					if v != nil {
						m[k] = fmt.Sprint(v)
					}
				}
				out[c.Path] = m
				continue
			}
			walk(c, cv)
		}
	}
	walk(p.Root, user)
	return out
}

// CopyValues returns a deep copy of a values tree.
func CopyValues(m map[string]any) map[string]any { return deepCopyMap(m) }

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return deepCopy(m).(map[string]any)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			return map[string]any(nil)
		}
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, v := range t {
			s[i] = deepCopy(v)
		}
		return s
	default:
		return v
	}
}
