package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
)

// TemplateOptions configure Template.
type TemplateOptions struct {
	// ReleaseName defaults to the root bundle's name.
	ReleaseName string
	// Namespace defaults to "default".
	Namespace string
	// Values are the user's values (files and --set, merged).
	Values map[string]any
	// KubeVersion is the Kubernetes version templates see
	// (.Capabilities.KubeVersion); empty means Helm's default.
	KubeVersion string
}

// Template renders the plan's manifests without a cluster, in Helm's
// install order, exactly as Install would send them. The output is
// deterministic for the same plan and values, except for secrets a chart
// generates at random when no value is given.
func Template(ctx context.Context, p *Plan, opts TemplateOptions) (string, error) {
	if opts.ReleaseName == "" {
		opts.ReleaseName = p.Root.Bundle.Name
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	chrt, err := p.Chart(opts.Values)
	if err != nil {
		return "", err
	}
	vals, err := p.Values(opts.Values, ReleaseOptions{Name: opts.ReleaseName, Namespace: opts.Namespace})
	if err != nil {
		return "", err
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun = true
	inst.ClientOnly = true
	inst.Replace = true
	inst.IncludeCRDs = true
	inst.ReleaseName = opts.ReleaseName
	inst.Namespace = opts.Namespace
	if opts.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return "", fmt.Errorf("--kube-version %q: %w", opts.KubeVersion, err)
		}
		inst.KubeVersion = kv
	}
	rel, err := inst.RunWithContext(ctx, chrt, vals)
	if err != nil {
		return "", fmt.Errorf("rendering %s: %w", p.Root.Bundle, HelmErrorFor(p.Root.Bundle.Name, err))
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(rel.Manifest))
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "\n---\n# Source: %s\n%s", h.Path, strings.TrimSpace(h.Manifest))
	}
	b.WriteString("\n")
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

// WriteDir writes a rendered manifest stream under dir, one file per source
// template (the "# Source:" path, as helm template --output-dir does), and
// returns the files written. Paths that would leave dir are refused.
func WriteDir(dir, manifest string) ([]string, error) {
	var order []string
	files := map[string]*strings.Builder{}
	for _, doc := range strings.Split(manifest, "\n---") {
		doc = strings.TrimSpace(strings.TrimPrefix(doc, "---"))
		if doc == "" {
			continue
		}
		first, _, _ := strings.Cut(doc, "\n")
		src, ok := strings.CutPrefix(first, "# Source: ")
		if !ok {
			return nil, fmt.Errorf("manifest document without a # Source: line")
		}
		rel := filepath.Clean(filepath.FromSlash(src))
		if !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("template path %q leaves the output directory", src)
		}
		b, ok := files[rel]
		if !ok {
			b = &strings.Builder{}
			files[rel] = b
			order = append(order, rel)
		}
		b.WriteString("---\n" + doc + "\n")
	}
	var written []string
	for _, rel := range order {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(path, []byte(files[rel].String()), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}
