package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bundlesh/bundle/internal/testutil"
)

// widgets is a plain Helm chart with crds/, a custom resource, a
// pre-install hook, a test hook and capability checks.
const widgets = "../../pkg/render/testdata/flags/widgets"

// namespaceKubeconfig has a current context with the namespace team-ns and
// a context "plain" without one.
const namespaceKubeconfig = "../../pkg/release/testdata/kubeconfig-namespace.yaml"

// helmTemplateCases are helm template command lines (after "template")
// that bundle template must print byte for byte as helm does.
func helmTemplateCases(t *testing.T) [][]string {
	dir := t.TempDir()
	valuesFile := filepath.Join(dir, "values.yaml")
	os.WriteFile(valuesFile, []byte("size: from-file\n"), 0o644)
	content := filepath.Join(dir, "size.txt")
	os.WriteFile(content, []byte("from a file, with a comma"), 0o644)
	// Helm 4 takes a plugin's name (bundle takes it and executables).
	plugin, _ := testutil.PostRendererPlugin(t)
	return [][]string{
		{"w", widgets},
		{"w", widgets, "--include-crds"},
		{"w", widgets, "--include-crds", "--skip-crds"},
		{"w", widgets, "--skip-tests"},
		{"w", widgets, "--no-hooks"},
		{"w", widgets, "-a", "monitoring.coreos.com/v1", "--kube-version", "1.29.3"},
		{"w", widgets, "--api-versions", "a/v1,monitoring.coreos.com/v1"},
		{"w", widgets, "--is-upgrade", "-n", "shop"},
		{"w", widgets, "-s", "templates/widget.yaml", "-s", "templates/tests/*"},
		{"w", widgets, "--show-only", "templates/widget.yaml", "--show-only", "templates/*"},
		{"w", widgets, "-s", "templates/*", "--skip-tests"},
		{"w", widgets, "--post-renderer", plugin},
		{"w", widgets, "--post-renderer", plugin, "--post-renderer-args", "huge", "--include-crds"},
		{"w", widgets, "-f", valuesFile, "--set-json", `size="json"`, "--set", "size=set"},
		{"w", widgets, "--set-json", `size={"a":1,"b":[2,3]}`},
		{"w", widgets, "--set", "size={a,b}"},
		{"w", widgets, "--set-string", "size=3", "--set-file", "size=" + content},
		{"w", widgets, "--set-file", "size=" + content, "--set-literal", "size=a,b\\c"},
		{widgets, "--name-template", `n-{{ "X" | lower }}`},
	}
}

// TestHelmConformance compares bundle template with the helm 4 CLI at the
// version of the SDK bundle is built with ($BUNDLE_TEST_HELM4) on the same
// chart and flags (test/helmcompat compares with helm 3 too).
func TestHelmConformance(t *testing.T) {
	helm := testutil.Helm4CLI(t)
	home := t.TempDir()
	for _, args := range helmTemplateCases(t) {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			cmd := exec.Command(helm, append([]string{"template"}, args...)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none"),
				"HELM_CONFIG_HOME=" + home + "/config", "HELM_CACHE_HOME=" + home + "/cache", "HELM_DATA_HOME=" + home + "/data",
				"HELM_PLUGINS=" + os.Getenv("HELM_PLUGINS")}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("helm: %v: %s", err, stderr.String())
			}
			code, got, errs := run(t, append([]string{"template"}, args...)...)
			if code != 0 {
				t.Fatalf("bundle: exit %d: %s", code, errs)
			}
			if got != string(want) {
				t.Errorf("bundle template differs from helm template\n--- helm\n%s\n--- bundle\n%s", want, got)
			}
		})
	}
}

func TestTemplateHelmFlags(t *testing.T) {
	script := testutil.PostRenderer(t)
	tests := []struct {
		name   string
		args   []string
		want   []string
		absent []string
	}{
		{"defaults", []string{"w", widgets}, []string{"kind: Widget", "w-pre-install", "w-test", `namespace: "default"`, `isInstall: "true"`}, []string{"CustomResourceDefinition", "ServiceMonitor"}},
		{"--include-crds", []string{"w", widgets, "--include-crds"}, []string{"---\n# Source: widgets/crds/widget.yaml\n"}, nil},
		{"--skip-crds accepted, changes nothing", []string{"w", widgets, "--skip-crds", "--include-crds"}, []string{"CustomResourceDefinition"}, nil},
		{"--no-hooks", []string{"w", widgets, "--no-hooks"}, []string{"kind: Widget"}, []string{"w-pre-install", "w-test"}},
		{"--skip-tests", []string{"w", widgets, "--skip-tests"}, []string{"w-pre-install"}, []string{"w-test"}},
		{"-a", []string{"w", widgets, "-a", "monitoring.coreos.com/v1"}, []string{"kind: ServiceMonitor", `monitoring: "true"`}, nil},
		{"--kube-version", []string{"w", widgets, "--kube-version", "v1.31.1"}, []string{`kubeVersion: "v1.31.1"`, "sidecars: native"}, nil},
		{"--is-upgrade", []string{"w", widgets, "--is-upgrade"}, []string{`isUpgrade: "true"`, `isInstall: "false"`}, nil},
		{"-s", []string{"w", widgets, "-s", "templates/widget.yaml"}, []string{"kind: Widget"}, []string{"ConfigMap", "Pod"}},
		{"--post-renderer", []string{"w", widgets, "--post-renderer", script, "--post-renderer-args", "big"}, []string{`size: "big"`}, []string{"small"}},
		{"--set-json keeps commas", []string{"w", widgets, "--set-json", `size={"a":1,"b":2}`}, []string{`size: "map[a:1 b:2]"`}, nil},
		{"--set-literal", []string{"w", widgets, "--set-literal", `size=a,b={c}`}, []string{`size: "a,b={c}"`}, nil},
		{"--set-string", []string{"w", widgets, "--set-string", "size=007"}, []string{`size: "007"`}, nil},
		{"--set wins over --set-json", []string{"w", widgets, "--set", "size=set", "--set-json", `size="json"`}, []string{`size: "set"`}, nil},
		{"--name-template", []string{widgets, "--name-template", "shop-{{ \"A\" | lower }}"}, []string{"name: shop-a-widget"}, nil},
		{"--devel", []string{"w", widgets, "--devel"}, []string{"kind: Widget"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, append([]string{"template"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			wantInOutput(t, out, tt.want, tt.absent)
		})
	}
}

// -g names the release BUNDLE-SECONDS, as helm install -g names it
// CHART-SECONDS (helm template -g always says release-name; bundle
// template generates the name as install does).
func TestGenerateName(t *testing.T) {
	before := time.Now().Unix()
	code, out, errs := run(t, "template", widgets, "-g", "-s", "templates/widget.yaml")
	after := time.Now().Unix()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := regexp.MustCompile(`name: widgets-(\d+)-widget`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated name in:\n%s", out)
	}
	if n, _ := strconv.ParseInt(m[1], 10, 64); n < before || n > after {
		t.Errorf("generated name's time %d not between %d and %d", n, before, after)
	}
}

func TestTemplateOutputDirReleaseName(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := run(t, "template", "w", widgets, "--output-dir", dir, "--release-name")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "w", "widgets", "templates", "widget.yaml")); err != nil {
		t.Errorf("not written under DIR/NAME: %v (%s)", err, errs)
	}
}

// The namespace is -n, else $BUNDLE_NAMESPACE, else the kubeconfig
// context's, else default; template reads the kubeconfig without a cluster.
func TestTemplateNamespace(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"-n", map[string]string{"BUNDLE_NAMESPACE": "env"}, []string{"-n", "flag", "--kubeconfig", namespaceKubeconfig}, "flag"},
		{"$BUNDLE_NAMESPACE", map[string]string{"BUNDLE_NAMESPACE": "env"}, []string{"--kubeconfig", namespaceKubeconfig}, "env"},
		{"--kubeconfig's context", nil, []string{"--kubeconfig", namespaceKubeconfig}, "team-ns"},
		{"$KUBECONFIG's context", map[string]string{"KUBECONFIG": namespaceKubeconfig}, nil, "team-ns"},
		{"--kube-context without a namespace", nil, []string{"--kubeconfig", namespaceKubeconfig, "--kube-context", "plain"}, "default"},
		{"nothing", nil, nil, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runWithEnv(t, tt.env, "", append([]string{"template", "w", widgets, "-s", "templates/configmap.yaml"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if want := `namespace: "` + tt.want + `"`; !strings.Contains(out, want) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		})
	}
}

func TestHelmFlagErrors(t *testing.T) {
	kubeconfig := unreachableKubeconfig
	missing := filepath.Join(t.TempDir(), "nope.txt")
	checkFailures(t, []failure{
		{"name and -g", []string{"install", "w", widgets, "-g", "--kubeconfig", kubeconfig}, ExitUsage, `Error: cannot set --generate-name and also specify a name ("w"): drop one (see bundle install --help)`},
		{"name and --name-template", []string{"template", "w", widgets, "--name-template", "x"}, ExitUsage, `Error: cannot set --name-template and also specify a name ("w"): drop one (see bundle template --help)`},
		{"--post-renderer-args alone", []string{"template", widgets, "--post-renderer-args", "x"}, ExitUsage, "Error: --post-renderer-args without --post-renderer: give the executable with --post-renderer PATH (see bundle template --help)"},
		{"negative --history-max", []string{"upgrade", "w", widgets, "--history-max", "-1", "--kubeconfig", kubeconfig}, ExitUsage, "Error: --history-max -1: give a number of revisions, or 0 to keep all (see bundle upgrade --help)"},
		{"--set-file of a missing file", []string{"template", widgets, "--set-file", "size=" + missing}, ExitError, `Error: --set-file "size=` + missing + `": open ` + missing + `: no such file or directory`},
		{"bad --set-json", []string{"template", widgets, "--set-json", "size={"}, ExitError, `Error: --set-json "size={": `},
		{"--show-only matches nothing", []string{"template", widgets, "-s", "templates/nope.yaml"}, ExitError, "Error: could not find template templates/nope.yaml in chart"},
		{"--post-renderer not found", []string{"template", widgets, "--post-renderer", missing}, ExitError, "Error: --post-renderer " + missing + ": "},
		{"--post-renderer not found, before the cluster", []string{"install", widgets, "--post-renderer", missing, "--kubeconfig", kubeconfig}, ExitError, "Error: --post-renderer " + missing + ": "},
		{"bad --kube-version", []string{"template", widgets, "--kube-version", "x.y"}, ExitError, `Error: --kube-version "x.y": `},
		{"bad --name-template", []string{"template", widgets, "--name-template", "{{"}, ExitError, `Error: --name-template "{{": `},
		{"bad generated name", []string{"template", widgets, "--name-template", "Not_Valid"}, ExitError, `Error: rendering widgets 1.0.0: release name check failed: release name "Not_Valid"`},
	})
}
