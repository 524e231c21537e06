package render

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	common "helm.sh/helm/v4/pkg/chart/common"
	postrender "helm.sh/helm/v4/pkg/postrenderer"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
)

// TemplateOptions configure Render and Template. Each field has the meaning
// of the helm template flag named in its comment.
type TemplateOptions struct {
	// ReleaseName defaults to the root bundle's name (see Naming).
	ReleaseName string
	Naming
	// Namespace defaults to "default".
	Namespace string
	// Values are the user's values (files and --set, merged).
	Values map[string]any
	// KubeVersion is the Kubernetes version templates see
	// (.Capabilities.KubeVersion); empty means DefaultKubeVersion, as the
	// helm CLI assumes
	// (--kube-version).
	KubeVersion string
	// APIVersions are added to what .Capabilities.APIVersions.Has finds,
	// e.g. "monitoring.coreos.com/v1" or "monitoring.coreos.com/v1/ServiceMonitor"
	// (-a/--api-versions).
	APIVersions []string
	// IsUpgrade renders as for an upgrade: .Release.IsUpgrade is true and
	// .Release.IsInstall false (--is-upgrade).
	IsUpgrade bool
	// IncludeCRDs puts the files under crds/ (the root's and every
	// requirement's) first in the output; they are left out otherwise
	// (--include-crds).
	IncludeCRDs bool
	// NoHooks leaves every hook out of the output (--no-hooks).
	NoHooks bool
	// SkipTests leaves test hooks (helm.sh/hook: test) out (--skip-tests).
	SkipTests bool
	// ShowOnly keeps only the manifests rendered from templates whose
	// chart-relative path matches one of these patterns (path.Match, e.g.
	// templates/deployment.yaml, templates/*.yaml,
	// charts/database/templates/statefulset.yaml); Template fails when a
	// pattern matches nothing (-s/--show-only).
	ShowOnly []string
	// PostRenderer, when set, receives the manifests (not the hooks, as
	// in Helm 3) and returns them changed (--post-renderer).
	PostRenderer PostRenderer
}

// Naming says how a release is named when no name is given: as helm
// install --generate-name and --name-template do. Without either, the
// release is named after the root bundle.
type Naming struct {
	// GenerateName names the release BUNDLE-SECONDS, the root bundle's
	// name and the Unix time, as helm's --generate-name does with the
	// chart's name.
	GenerateName bool
	// NameTemplate is a Go template with Sprig's functions whose output
	// is the name, e.g. "shop-{{ randAlpha 5 | lower }}" (--name-template).
	NameTemplate string
}

// ReleaseName returns the release name for a bundle named bundleName: name
// when given, else the one n makes, else bundleName. A name given together
// with n's options is refused, as Helm refuses it.
func ReleaseName(bundleName, name string, n Naming, now time.Time) (string, error) {
	if name != "" {
		switch {
		case n.GenerateName:
			return "", &errdefs.OptionError{Option: "GenerateName", Value: name, Msg: "cannot generate a name and also be given one: drop one"}
		case n.NameTemplate != "":
			return "", &errdefs.OptionError{Option: "NameTemplate", Value: name, Msg: "cannot make a name from a template and also be given one: drop one"}
		}
		return name, nil
	}
	if n.NameTemplate != "" {
		out, err := action.TemplateName(n.NameTemplate)
		if err != nil {
			return "", &errdefs.OptionError{Option: "NameTemplate", Value: n.NameTemplate, Msg: strings.Join(strings.Fields(err.Error()), " "), Err: err}
		}
		return out, nil
	}
	if n.GenerateName {
		return fmt.Sprintf("%s-%d", bundleName, now.Unix()), nil
	}
	return bundleName, nil
}

// PostRenderer is an executable the rendered manifests are piped through,
// as Helm's --post-renderer: it reads the manifests on stdin and writes the
// ones to use on stdout. A Path without a slash is looked up in $PATH.
// The zero value is no post-renderer.
type PostRenderer struct {
	Path string
	Args []string
}

// Check says whether the executable can be found, before anything is
// rendered or sent to a cluster.
func (p PostRenderer) Check() error {
	if p.Path == "" {
		if len(p.Args) > 0 {
			return &errdefs.OptionError{Option: "PostRendererArgs", Value: strings.Join(p.Args, " "), Msg: "arguments without a post-renderer: give the executable's path too"}
		}
		return nil
	}
	_, err := p.exec()
	return err
}

func (p PostRenderer) exec() (postrender.PostRenderer, error) {
	pr, err := newPostRenderer(p.Path, p.Args...)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "unable to find binary at "+p.Path+": ") // the path once is enough
		return nil, &errdefs.OptionError{Option: "PostRenderer", Value: p.Path, Msg: strings.Join(strings.Fields(msg), " ") + " (give an executable's path, or the name of one in $PATH)", Err: err}
	}
	return pr, nil
}

// Run pipes manifests through the executable and returns what it wrote.
// It makes PostRenderer a Helm post-renderer (postrender.PostRenderer), so
// Helm's actions run it exactly as helm --post-renderer does.
func (p PostRenderer) Run(manifests *bytes.Buffer) (*bytes.Buffer, error) {
	pr, err := p.exec()
	if err != nil {
		return nil, err
	}
	return pr.Run(manifests)
}

// Rendered is a release rendered without a cluster.
type Rendered struct {
	ReleaseName string
	Namespace   string
	// Manifest is the YAML stream Helm installs, in Helm's install order:
	// the CRDs first when asked for, each document headed by its
	// "# Source:" line, post-rendered when a PostRenderer is given.
	Manifest string
	// Hooks are the hooks, in Helm's order; test hooks and all hooks are
	// left out as TemplateOptions say.
	Hooks []Hook
	// Notes is the rendered NOTES.txt of the root bundle.
	Notes string
}

// Hook is one rendered hook resource.
type Hook struct {
	// Path is the template's path, e.g. mediawiki/templates/tests/test.yaml.
	Path string
	Kind string
	Name string
	// Events are the helm.sh/hook events: pre-install, test, ...
	Events   []string
	Manifest string
}

// String returns what helm template prints for the release: the manifest,
// then every hook headed by its "# Source:" line.
func (r *Rendered) String() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(r.Manifest))
	b.WriteString("\n")
	for _, h := range r.Hooks {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return b.String()
}

// Render renders the plan's manifests and hooks without a cluster, exactly
// as Install would send them. The output is deterministic for the same plan
// and values, except for secrets a chart generates at random when no value
// is given and names made with Naming.
func Render(ctx context.Context, p *plan.Plan, opts TemplateOptions) (*Rendered, error) {
	name, err := ReleaseName(p.Root.Bundle.Name, opts.ReleaseName, opts.Naming, time.Now())
	if err != nil {
		return nil, err
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if err := opts.PostRenderer.Check(); err != nil {
		return nil, err
	}
	inst := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	if opts.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return nil, &errdefs.OptionError{Option: "KubeVersion", Value: opts.KubeVersion, Msg: err.Error() + " (write a version such as 1.31.0)", Err: err}
		}
		inst.KubeVersion = kv
	} else {
		inst.KubeVersion = DefaultKubeVersion()
	}
	chrt, err := Chart(p, opts.Values)
	if err != nil {
		return nil, err
	}
	vals, err := Values(p, opts.Values, ReleaseOptions{Name: name, Namespace: opts.Namespace, IsUpgrade: opts.IsUpgrade})
	if err != nil {
		return nil, err
	}
	// As helm template: a client-only dry run of an install.
	inst.DryRunStrategy = action.DryRunClient
	inst.Replace = true
	inst.IncludeCRDs = opts.IncludeCRDs
	inst.IsUpgrade = opts.IsUpgrade
	inst.APIVersions = common.VersionSet(opts.APIVersions)
	inst.ReleaseName = name
	inst.Namespace = opts.Namespace
	if opts.PostRenderer.Path != "" {
		inst.PostRenderer = opts.PostRenderer
	}
	rr, err := inst.RunWithContext(ctx, chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", p.Root.Bundle, HelmErrorFor(p.Root.Bundle.Name, err))
	}
	rel, ok := rr.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("rendering %s: unexpected release type %T", p.Root.Bundle, rr)
	}
	out := &Rendered{ReleaseName: name, Namespace: opts.Namespace, Manifest: rel.Manifest, Notes: rel.Info.Notes}
	pins, pin := Pins(p)
	if pin {
		if out.Manifest, err = pins.PinStream(out.Manifest); err != nil {
			return nil, err
		}
	}
	if opts.NoHooks {
		return out, nil
	}
	for _, h := range rel.Hooks {
		hook := Hook{Path: h.Path, Kind: h.Kind, Name: h.Name, Manifest: h.Manifest}
		test := false
		for _, e := range h.Events {
			hook.Events = append(hook.Events, string(e))
			test = test || e == release.HookTest
		}
		if opts.SkipTests && test {
			continue
		}
		if pin {
			if hook.Manifest, err = pins.PinDocument(hook.Manifest); err != nil {
				return nil, err
			}
		}
		out.Hooks = append(out.Hooks, hook)
	}
	return out, nil
}

// Template renders the plan as helm template prints a chart: Render's
// manifest and hooks as one YAML stream, only the templates ShowOnly names
// when it names some.
func Template(ctx context.Context, p *plan.Plan, opts TemplateOptions) (string, error) {
	r, err := Render(ctx, p, opts)
	if err != nil {
		return "", err
	}
	if len(opts.ShowOnly) == 0 {
		return r.String(), nil
	}
	return showOnly(r.String(), opts.ShowOnly)
}

var sourcePath = regexp.MustCompile("# Source: [^/]+/(.+)")

// showOnly keeps the documents rendered from templates matching patterns,
// as helm template --show-only does: in pattern order, then document order;
// each pattern must match some template.
func showOnly(stream string, patterns []string) (string, error) {
	docs := releaseutil.SplitManifests(stream)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var b strings.Builder
	for _, pattern := range patterns {
		pattern = filepath.ToSlash(pattern)
		found := false
		for _, k := range keys {
			m := sourcePath.FindStringSubmatch(docs[k])
			if m == nil {
				continue
			}
			if ok, _ := filepath.Match(pattern, m[1]); !ok {
				continue
			}
			fmt.Fprintf(&b, "---\n%s\n", docs[k])
			found = true
		}
		if !found {
			return "", errdefs.Fixable(errdefs.ErrNotFound, []errdefs.Fix{{Options: []string{"show-only"}}},
				"could not find template %s in chart (a template path is relative to the chart, e.g. templates/deployment.yaml or charts/INSTANCE/templates/*.yaml)", pattern)
		}
	}
	return b.String(), nil
}

// HelmError flattens Helm's multi-line errors into one line.
func HelmError(err error) error { return HelmErrorFor("", err) }

// HelmErrorFor is HelmError for a composed chart whose root is the bundle
// root: values refused by a values.schema.json are reported by the path the
// user sets them at (INSTANCE.KEY for a requirement's), e.g.
// "invalid values: cache.replicas: minimum: got 2, want 3 (set valid values with -f or --set)".
func HelmErrorFor(root string, err error) error {
	msg := err.Error()
	if m := schemaErrors(root, msg); m != "" {
		return &flatError{msg: m, err: err}
	}
	// A chart's own fail "message" is written for users; where in the
	// templates it was raised is noise to them.
	if m := failPrefix.ReplaceAllString(msg, ""); m != msg {
		return &flatError{msg: strings.Join(strings.Fields(m), " "), err: err}
	}
	if !strings.Contains(msg, "\n") {
		return err
	}
	return &flatError{msg: strings.Join(strings.Fields(msg), " "), err: err}
}

const schemaPrefix = "values don't meet the specifications of the schema(s) in the following chart(s):"

var (
	schemaLine = regexp.MustCompile(`^- at '([^']*)': (.*)$`)
	failPrefix = regexp.MustCompile(`execution error at \([^)]*\): `)
)

// schemaErrors rewrites Helm's schema report ("CHART:" lines, each followed
// by "- at '/a/b': problem" lines) as one line of value paths; "" when msg
// is not such a report.
func schemaErrors(root, msg string) string {
	i := strings.Index(msg, schemaPrefix)
	if i < 0 {
		return ""
	}
	var problems []string
	chart := ""
	for _, line := range strings.Split(msg[i+len(schemaPrefix):], "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case schemaLine.MatchString(line):
			m := schemaLine.FindStringSubmatch(line)
			path := strings.ReplaceAll(strings.Trim(m[1], "/"), "/", ".")
			if chart != "" && chart != root {
				path = strings.Trim(chart+"."+path, ".")
			}
			if path == "" {
				path = "(top level)"
			}
			problems = append(problems, path+": "+m[2])
		case strings.HasSuffix(line, ":"):
			chart = strings.TrimSuffix(line, ":")
		default:
			problems = append(problems, line)
		}
	}
	if len(problems) == 0 {
		return ""
	}
	return "invalid values: " + strings.Join(problems, "; ") + " (set valid values with -f or --set)"
}

type flatError struct {
	msg string
	err error
}

func (e *flatError) Error() string { return e.msg }
func (e *flatError) Unwrap() error { return e.err }

// crdPath matches the source path of a CRD file in a rendered stream:
// CHART[/charts/SUB...]/crds/FILE.
var crdPath = regexp.MustCompile(`^[^/]+(/charts/[^/]+)*/crds/`)

// Document is one rendered document: the template (or CRD file) it came
// from and its YAML, exactly as Helm rendered it.
type Document struct {
	Source  string
	Content string
}

// Documents lists the rendered documents in the order helm template prints
// them: the manifest's (CRDs first when asked for), then the hooks'.
func (r *Rendered) Documents() ([]Document, error) {
	docs, err := splitStream(r.Manifest)
	if err != nil {
		return nil, err
	}
	for _, h := range r.Hooks {
		docs = append(docs, Document{Source: h.Path, Content: h.Manifest})
	}
	return docs, nil
}

// Manifest is one rendered object: where it came from, what it is, and its
// body, structured and as Helm rendered it.
type Manifest struct {
	// Source is the template (or CRD file) it came from, e.g.
	// mediawiki/charts/database/templates/statefulset.yaml.
	Source     string
	APIVersion string
	Kind       string
	Namespace  string // as written; empty means the release's namespace
	Name       string
	// Object is the parsed body; YAML is the text Helm rendered.
	Object map[string]any
	YAML   string
	// Hook is true for a hook (helm.sh/hook) rather than a release object.
	Hook bool
}

// Manifests lists the rendered objects, in the order helm template prints
// them. A document that is not an object (empty, or a comment only) is
// left out.
func (r *Rendered) Manifests() ([]Manifest, error) {
	docs, err := r.Documents()
	if err != nil {
		return nil, err
	}
	hooks := len(docs) - len(r.Hooks) // Documents lists the hooks last
	var out []Manifest
	for i, d := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(d.Content), &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Source, err)
		}
		if obj == nil {
			continue
		}
		m := Manifest{Source: d.Source, Object: obj, YAML: d.Content, Hook: i >= hooks}
		m.APIVersion, _ = obj["apiVersion"].(string)
		m.Kind, _ = obj["kind"].(string)
		if md, ok := obj["metadata"].(map[string]any); ok {
			m.Name, _ = md["name"].(string)
			m.Namespace, _ = md["namespace"].(string)
		}
		out = append(out, m)
	}
	return out, nil
}

// streamHead starts every document of a stream Helm renders.
const streamHead = "---\n# Source: "

// splitStream cuts a stream Helm wrote as "---\n# Source: PATH\nCONTENT\n"
// per document back into its documents, contents byte for byte.
func splitStream(stream string) ([]Document, error) {
	if strings.TrimSpace(stream) == "" {
		return nil, nil
	}
	if !strings.HasPrefix(stream, streamHead) {
		return nil, fmt.Errorf("manifest document without a # Source: line")
	}
	var docs []Document
	for rest := stream; rest != ""; {
		name, body, _ := strings.Cut(strings.TrimPrefix(rest, streamHead), "\n")
		var content string
		if next := strings.Index(body, "\n"+streamHead); next >= 0 {
			content, rest = body[:next], body[next+1:]
		} else {
			content, rest = strings.TrimSuffix(body, "\n"), ""
		}
		docs = append(docs, Document{Source: name, Content: content})
	}
	return docs, nil
}

// WriteDir writes rendered documents under dir as helm template
// --output-dir does: each document, with its "---" and "# Source:" lines,
// into the file of its source template, documents of one template appended
// in order. With releaseDir (helm's --release-name), templates go under
// dir/releaseDir and CRDs under dir, as in helm. It returns the path of each
// document written (a path repeats when a template made several documents),
// as helm reports them. Paths that would leave dir are refused before
// anything is written.
func WriteDir(dir, releaseDir string, docs []Document) ([]string, error) {
	for _, d := range docs {
		if rel := filepath.Clean(filepath.FromSlash(d.Source)); !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("template path %q leaves the output directory", d.Source)
		}
	}
	var written []string
	opened := map[string]bool{}
	for _, d := range docs {
		base := dir
		if releaseDir != "" && !crdPath.MatchString(d.Source) {
			base = filepath.Join(dir, releaseDir)
		}
		path := filepath.Join(base, filepath.FromSlash(d.Source))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if opened[path] {
			flags = os.O_WRONLY | os.O_APPEND
		}
		f, err := os.OpenFile(path, flags, 0o644)
		if err != nil {
			return written, err
		}
		_, err = fmt.Fprintf(f, "%s%s\n%s\n", streamHead, d.Source, d.Content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		opened[path] = true
		written = append(written, path)
	}
	return written, nil
}
