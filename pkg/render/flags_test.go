package render_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/errdefs"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/render"
	"github.com/bundlesh/bundle/pkg/repo"
)

// flagsSet holds the fixtures of Helm's template flags as the repository
// "flags": widgets is a plain chart with crds/, a custom resource, a
// pre-install hook, a test hook and capability checks; shop is a bundle
// requiring widgets (as its subchart "parts").
func flagsSet() *repo.Set {
	return repo.NewSet(map[string]repo.Repository{"flags": repo.NewCatalog("flags", os.DirFS("testdata/flags"))})
}

func flagsPlan(t *testing.T, name string) *plan.Plan {
	t.Helper()
	return planIn(t, flagsSet(), "flags/"+name)
}

// TestTemplateHelmFlags renders the fixtures with each of helm template's
// flags. The golden files are byte for byte what helm template prints for
// the same chart and flags (TestHelmConformance in internal/cli checks
// this against a helm binary).
func TestTemplateHelmFlags(t *testing.T) {
	script := testutil.PostRenderer(t)
	tests := []struct {
		golden string
		bundle string
		opts   render.TemplateOptions
		want   []string // substrings that must appear
		absent []string // and must not
	}{
		{golden: "widgets.yaml", bundle: "widgets",
			want: []string{
				"# Source: widgets/templates/widget.yaml\napiVersion: example.com/v1\nkind: Widget",
				"# Source: widgets/templates/pre-install.yaml", "# Source: widgets/templates/tests/test-widget.yaml",
				`isInstall: "true"`, `isUpgrade: "false"`, `monitoring: "false"`, `namespace: "default"`,
			},
			absent: []string{"CustomResourceDefinition", "ServiceMonitor"}},
		{golden: "widgets-include-crds.yaml", bundle: "widgets", opts: render.TemplateOptions{IncludeCRDs: true},
			want: []string{"---\n# Source: widgets/crds/widget.yaml\n# Widgets: installed from crds/"}},
		{golden: "widgets-no-hooks.yaml", bundle: "widgets", opts: render.TemplateOptions{NoHooks: true},
			want:   []string{"kind: Widget"},
			absent: []string{"pre-install", "test-widget"}},
		{golden: "widgets-skip-tests.yaml", bundle: "widgets", opts: render.TemplateOptions{SkipTests: true},
			want:   []string{"# Source: widgets/templates/pre-install.yaml"},
			absent: []string{"test-widget"}},
		{golden: "widgets-capabilities.yaml", bundle: "widgets", opts: render.TemplateOptions{APIVersions: []string{"monitoring.coreos.com/v1"}, KubeVersion: "1.29.3"},
			want: []string{"kind: ServiceMonitor", `monitoring: "true"`, `kubeVersion: "v1.29.3"`, "sidecars: emulated"}},
		{golden: "widgets-upgrade.yaml", bundle: "widgets", opts: render.TemplateOptions{IsUpgrade: true, ReleaseName: "w", Namespace: "shop"},
			want: []string{`isInstall: "false"`, `isUpgrade: "true"`, `namespace: "shop"`, "name: w-widget"}},
		{golden: "widgets-show-only.yaml", bundle: "widgets", opts: render.TemplateOptions{ShowOnly: []string{"templates/widget.yaml", "templates/tests/*"}},
			want:   []string{"kind: Widget", "test-widget"},
			absent: []string{"ConfigMap"}},
		{golden: "widgets-post-renderer.yaml", bundle: "widgets", opts: render.TemplateOptions{PostRenderer: render.PostRenderer{Path: script}},
			want:   []string{`size: "tiny"`},
			absent: []string{"small"}},
		{golden: "widgets-post-renderer-args.yaml", bundle: "widgets", opts: render.TemplateOptions{PostRenderer: render.PostRenderer{Path: script, Args: []string{"huge"}}},
			want: []string{`size: "huge"`}},
		// A requirement's crds/ are a subchart's: included too.
		{golden: "shop-include-crds.yaml", bundle: "shop", opts: render.TemplateOptions{IncludeCRDs: true},
			want: []string{"# Source: shop/charts/parts/crds/widget.yaml", "# Source: shop/charts/parts/templates/widget.yaml", `size: "large"`}},
		{golden: "shop.yaml", bundle: "shop",
			want:   []string{"# Source: shop/charts/parts/templates/widget.yaml"},
			absent: []string{"CustomResourceDefinition"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := render.Template(context.Background(), flagsPlan(t, tt.bundle), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("output has %q", a)
				}
			}
			testutil.Golden(t, filepath.Join("testdata", "golden", tt.golden), got, *update)
		})
	}
}

func TestRenderStructure(t *testing.T) {
	r, err := render.Render(context.Background(), flagsPlan(t, "widgets"), render.TemplateOptions{ReleaseName: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hooks) != 2 || r.Hooks[0].Name != "w-pre-install" || r.Hooks[0].Events[0] != "pre-install" || r.Hooks[1].Events[0] != "test" {
		t.Errorf("hooks: %+v", r.Hooks)
	}
	if r.Notes != "Widget w-widget is small.\n" || r.ReleaseName != "w" || r.Namespace != "default" {
		t.Errorf("release facts: %q %q %q", r.Notes, r.ReleaseName, r.Namespace)
	}
}

func TestTemplateFlagErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain.sh")
	os.WriteFile(notExec, []byte("#!/bin/sh\ncat\n"), 0o644)
	failing := filepath.Join(dir, "fail.sh")
	os.WriteFile(failing, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755)
	tests := []struct {
		name string
		opts render.TemplateOptions
		want string
	}{
		{"show-only matches nothing", render.TemplateOptions{ShowOnly: []string{"templates/widget.yaml", "templates/nope.yaml"}},
			"could not find template templates/nope.yaml in chart (a template path is relative to the chart, e.g. templates/deployment.yaml or charts/INSTANCE/templates/*.yaml)"},
		{"show-only names the chart", render.TemplateOptions{ShowOnly: []string{"widgets/templates/widget.yaml"}},
			"could not find template widgets/templates/widget.yaml in chart"},
		{"bad kube version", render.TemplateOptions{KubeVersion: "one"}, `KubeVersion "one": `},
		{"post-renderer not found", render.TemplateOptions{PostRenderer: render.PostRenderer{Path: filepath.Join(dir, "nope")}},
			"PostRenderer \"" + filepath.Join(dir, "nope") + "\": exec: \"" + filepath.Join(dir, "nope") + "\": stat " + filepath.Join(dir, "nope") + ": no such file or directory (give an executable's path, or the name of one in $PATH)"},
		{"post-renderer not executable", render.TemplateOptions{PostRenderer: render.PostRenderer{Path: notExec}}, "PostRenderer \"" + notExec + "\": "},
		{"post-renderer not in PATH", render.TemplateOptions{PostRenderer: render.PostRenderer{Path: "no-such-renderer-xyz"}},
			`PostRenderer "no-such-renderer-xyz": exec: "no-such-renderer-xyz": executable file not found in $PATH`},
		{"post-renderer args alone", render.TemplateOptions{PostRenderer: render.PostRenderer{Args: []string{"a"}}},
			`PostRendererArgs "a": arguments without a post-renderer: give the executable's path too`},
		{"post-renderer fails", render.TemplateOptions{PostRenderer: render.PostRenderer{Path: failing}}, "rendering widgets 1.0.0: error while running post render on files: error while running command " + failing + ". error output: broken : exit status 3"},
		{"name and generate-name", render.TemplateOptions{ReleaseName: "w", Naming: render.Naming{GenerateName: true}}, `GenerateName "w": cannot generate a name and also be given one: drop one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render.Template(context.Background(), flagsPlan(t, "widgets"), tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error:\n got  %v\n want %s...", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			// Options given values they cannot use are facts the command
			// line words with its flags.
			var oe *errdefs.OptionError
			if strings.Contains(tt.name, "kube version") || strings.HasPrefix(tt.name, "post-renderer not") || strings.HasPrefix(tt.name, "name and") {
				if !errors.As(err, &oe) || !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("not an OptionError: %#v", err)
				}
			}
		})
	}
}

func TestReleaseName(t *testing.T) {
	now := time.Unix(1712345678, 0)
	tests := []struct {
		name   string
		given  string
		naming render.Naming
		want   string // a regexp
		err    string
	}{
		{"default: the bundle's", "", render.Naming{}, "^widgets$", ""},
		{"given", "w", render.Naming{}, "^w$", ""},
		{"generated as helm's NAME-SECONDS", "", render.Naming{GenerateName: true}, "^widgets-1712345678$", ""},
		{"template", "", render.Naming{NameTemplate: `shop-{{ "X" | lower }}`}, "^shop-x$", ""},
		{"template wins over generate", "", render.Naming{NameTemplate: "t", GenerateName: true}, "^t$", ""},
		{"random template", "", render.Naming{NameTemplate: "w-{{ randAlpha 5 | lower }}"}, "^w-[a-z]{5}$", ""},
		{"bad template", "", render.Naming{NameTemplate: "{{ nope }}"}, "", `NameTemplate "{{ nope }}": template: name-template:1: function "nope" not defined`},
		{"template and name", "w", render.Naming{NameTemplate: "t"}, "", `NameTemplate "w": cannot make a name from a template and also be given one: drop one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render.ReleaseName("widgets", tt.given, tt.naming, now)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("name %q, want %s", got, tt.want)
			}
		})
	}
}
