// Package lint checks a bundle the way the stable catalog is held to: Helm's
// chart linter, then bundle's own rules over the bundle's files and what it
// renders with its default values — images pinned by tag, resource
// requests, probes, a non-root security context, every offered output
// rendering non-empty and documented, a values schema, a README and NOTES.
//
// Only the linted bundle's own objects are checked, not those of the
// bundles it requires (they are linted on their own).
package lint

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	helmlint "helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"

	"github.com/bundlesh/bundle/pkg/bundle"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
)

// Severity of a finding.
type Severity int

const (
	// Warning: the bundle works, but falls short of the catalog's standard.
	Warning Severity = iota + 1
	// Error: the bundle is broken or unsafe to install as it is.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Finding is one problem: where (a file, or KIND/NAME of a rendered object
// and the container), and what.
type Finding struct {
	Severity Severity
	Where    string
	Message  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s", f.Severity, f.Where, f.Message)
}

// Options configure Bundle.
type Options struct {
	// Values are the user's values (files and --set, merged) to lint with;
	// nil lints the defaults.
	Values map[string]any
	// ReleaseName and Namespace the templates see; default the bundle's
	// name and "default".
	ReleaseName, Namespace string
}

// Bundle lints b, whose requirements are resolved and loaded through l. An
// error means the bundle could not be linted at all (its requirements do
// not resolve, say); problems found are returned as findings, sorted.
func Bundle(ctx context.Context, l plan.Loader, b *bundle.Bundle, opts Options) ([]Finding, error) {
	if opts.ReleaseName == "" {
		opts.ReleaseName = b.Name
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	p, err := plan.Resolve(ctx, l, b, plan.Options{})
	if err != nil {
		return nil, err
	}
	var fs []Finding
	add := func(sev Severity, where, format string, args ...any) {
		fs = append(fs, Finding{Severity: sev, Where: where, Message: fmt.Sprintf(format, args...)})
	}

	rel := render.ReleaseOptions{Name: opts.ReleaseName, Namespace: opts.Namespace}
	vals, err := render.Values(p, opts.Values, rel)
	if err != nil {
		add(Error, "bundle.yaml", "requirements' outputs: %v", err)
		return sorted(fs), nil
	}

	// Helm's linter works on a directory.
	dir, err := os.MkdirTemp("", "bundle-lint-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := b.WriteDir(dir); err != nil {
		return nil, err
	}
	for _, m := range helmlint.RunAll(dir, vals, opts.Namespace, helmlint.WithKubeVersion(render.DefaultKubeVersion())).Messages {
		if m.Severity < support.WarningSev {
			continue
		}
		sev := Warning
		if m.Severity >= support.ErrorSev {
			sev = Error
		}
		where := strings.TrimPrefix(strings.TrimPrefix(m.Path, dir), "/")
		if where == "" {
			where = "Chart.yaml"
		}
		add(sev, where, "helm lint: %v", m.Err)
	}

	// Files a catalog bundle ships.
	files := map[string][]byte{}
	for _, f := range b.Chart.Raw {
		files[f.Name] = f.Data
	}
	for _, t := range b.Chart.Templates {
		files[t.Name] = t.Data
	}
	// A library chart is never installed: it has no values of its own to
	// check, and no one to tell how to reach what it installed.
	if b.Chart.Schema == nil && !b.IsLibrary() {
		add(Warning, "values.schema.json", "missing: a schema lets install refuse bad values before anything reaches the cluster")
	}
	if _, ok := files["templates/NOTES.txt"]; !ok && !b.IsLibrary() {
		add(Warning, "templates/NOTES.txt", "missing: tell users how to reach what they installed")
	}
	readme, hasReadme := files["README.md"]
	if !hasReadme {
		add(Warning, "README.md", "missing: document the bundle's values and outputs")
	}

	// Offered outputs render non-empty, and the README names them. An
	// output a claim gives each consumer of its own (a key prefix, a user)
	// may be empty on the provider: only claimed bindings use it, and the
	// claim's own rendering is checked below.
	outs, err := render.Outputs(p, vals, rel)
	if err != nil {
		add(Error, "bundle.yaml", "outputs: %v", err)
	}
	for _, o := range b.File.Outputs {
		_, claimed := b.File.Claims.Output(o.Name)
		if err == nil && !claimed && strings.TrimSpace(outs[o.Name]) == "" {
			add(Error, "bundle.yaml", "output %q renders empty with the default values", o.Name)
		}
		if hasReadme && !strings.Contains(string(readme), "`"+o.Name+"`") {
			add(Warning, "README.md", "output %q is not documented (write it as `%s`)", o.Name, o.Name)
		}
	}

	// The claim an app bound to the release gets (claims:), as app
	// "consumer" of this namespace gets it: its outputs render non-empty,
	// its objects parse and meet the workload rules.
	if cl := b.File.Claims; cl != nil && err == nil {
		bnd := &plan.Binding{Bind: plan.Bind{Instance: "database", Namespace: opts.Namespace, Release: opts.ReleaseName}, Provider: b, Outputs: outs, Claim: true}
		couts, ms, cerr := render.Claim(bnd, "database", render.ReleaseOptions{Name: "consumer", Namespace: opts.Namespace})
		if cerr != nil {
			add(Error, "bundle.yaml", "claims: %v", cerr)
		}
		for _, o := range cl.Outputs {
			if cerr == nil && strings.TrimSpace(couts[o.Name]) == "" {
				add(Error, "bundle.yaml", "claim output %q renders empty", o.Name)
			}
		}
		for _, m := range ms {
			source := m.Source // a file of the chart's claims directory
			if cl.Dir == "" {
				source = "bundle.yaml " + source
			}
			checkWorkload(object{source: source, kind: m.Kind, name: m.Name, body: m.Object}, add)
		}
	}

	// The bundle's own objects, as installed with these values.
	r, err := render.Render(ctx, p, render.TemplateOptions{Values: opts.Values, ReleaseName: opts.ReleaseName, Namespace: opts.Namespace})
	if err != nil {
		add(Error, "templates/", "does not render: %v", err)
		return sorted(fs), nil
	}
	ms, err := r.Manifests()
	if err != nil {
		add(Error, "templates/", "does not parse: %v", err)
		return sorted(fs), nil
	}
	for _, o := range ownObjects(ms, b.Name) {
		checkWorkload(o, add)
	}
	return sorted(fs), nil
}

type object struct {
	source string
	kind   string
	name   string
	body   map[string]any
}

// ownObjects keeps the objects that come from chart's own templates (not
// from its requirements' subcharts).
func ownObjects(ms []render.Manifest, chart string) []object {
	var out []object
	for _, m := range ms {
		if !strings.HasPrefix(m.Source, chart+"/templates/") {
			continue
		}
		out = append(out, object{source: strings.TrimPrefix(m.Source, chart+"/"), kind: m.Kind, name: m.Name, body: m.Object})
	}
	return out
}

// podSpec returns the pod spec of a workload and whether its pods run to
// completion (Jobs), or nil.
func podSpec(o object) (map[string]any, bool) {
	var p []string
	batch := false
	switch o.kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
		p = []string{"spec", "template", "spec"}
	case "Job":
		p, batch = []string{"spec", "template", "spec"}, true
	case "CronJob":
		p, batch = []string{"spec", "jobTemplate", "spec", "template", "spec"}, true
	case "Pod":
		p = []string{"spec"}
	default:
		return nil, false
	}
	var v any = o.body
	for _, k := range p {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	spec, _ := v.(map[string]any)
	return spec, batch
}

var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

func checkWorkload(o object, add func(Severity, string, string, ...any)) {
	spec, batch := podSpec(o)
	if spec == nil {
		return
	}
	where := fmt.Sprintf("%s %s/%s", o.source, o.kind, o.name)
	podNonRoot := nonRoot(spec["securityContext"])
	check := func(c map[string]any, init bool) {
		name, _ := c["name"].(string)
		w := where + " container " + name
		image, _ := c["image"].(string)
		if !digestRef.MatchString(image) {
			slash := strings.LastIndex(image, "/")
			colon := strings.LastIndex(image, ":")
			switch {
			case colon <= slash:
				add(Error, w, "image %q has no tag: pin it (e.g. %s:1.2.3)", image, image)
			case image[colon+1:] == "latest":
				add(Error, w, "image %q is not pinned: use a version tag or a digest, not latest", image)
			}
		}
		sc, _ := c["securityContext"].(map[string]any)
		if priv, _ := sc["privileged"].(bool); priv && !init {
			add(Error, w, "runs privileged")
		}
		if !init && !podNonRoot && !nonRoot(sc) {
			add(Warning, w, "may run as root: set securityContext.runAsNonRoot (and runAsUser) where the image allows")
		}
		if init {
			return
		}
		res, _ := c["resources"].(map[string]any)
		if req, _ := res["requests"].(map[string]any); len(req) == 0 {
			add(Warning, w, "no resources.requests: the scheduler cannot place it by what it needs")
		}
		if batch {
			return
		}
		if c["readinessProbe"] == nil {
			add(Warning, w, "no readinessProbe: traffic and --wait cannot tell when it is ready")
		}
		if c["livenessProbe"] == nil {
			add(Warning, w, "no livenessProbe: a hung process is never restarted")
		}
	}
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := spec[key].([]any)
		for _, c := range list {
			if cm, ok := c.(map[string]any); ok {
				check(cm, key == "initContainers")
			}
		}
	}
}

func nonRoot(sc any) bool {
	m, _ := sc.(map[string]any)
	if v, _ := m["runAsNonRoot"].(bool); v {
		return true
	}
	if uid, ok := m["runAsUser"].(float64); ok && uid > 0 {
		return true
	}
	return false
}

func sorted(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		if fs[i].Where != fs[j].Where {
			return fs[i].Where < fs[j].Where
		}
		return fs[i].Message < fs[j].Message
	})
	return fs
}

// Errors counts the findings of severity Error.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == Error {
			n++
		}
	}
	return n
}
