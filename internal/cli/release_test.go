package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/releasetest"
	"github.com/bundlesh/bundle/internal/testutil"
	"github.com/bundlesh/bundle/pkg/plan"
	"github.com/bundlesh/bundle/pkg/release"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// runWith runs the command line in-process over the fixture's Helm memory
// storage and fake clients.
func runWith(t *testing.T, f *releasetest.Fixture, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := newApp(strings.NewReader(""), &out, &errb)
	app.Metadata = fixtureMetadata(f, nil)
	code = runApp(context.Background(), app, append([]string{"bundle"}, args...))
	return code, out.String(), errb.String()
}

// fixtureMetadata is the app's Metadata of a command run over the
// fixture, with the environment testGetenv(env).
func fixtureMetadata(f *releasetest.Fixture, env map[string]string) map[string]any {
	return map[string]any{
		releaseEnvKey: &release.Env{Config: f.Config(), Namespace: f.Namespace, AllNamespaces: f.AllNamespaces, Clientset: f.Kubernetes},
		getenvKey:     testGetenv(env),
	}
}

// fixture: release "wiki" (mediawiki with a mariadb requirement) in
// namespace team at revisions 1 (superseded) and 2 (deployed, with a test
// that ran), "blog" (failed) and "old" (uninstalled, history kept), and
// "docs" in namespace other.
func fixture(t *testing.T) *releasetest.Fixture {
	f := releasetest.New("team")
	for rev := 1; rev <= 2; rev++ {
		status := rcommon.StatusSuperseded
		if rev == 2 {
			status = rcommon.StatusDeployed
		}
		r := releasetest.Release("wiki", "team", rev, status, "mediawiki", "1.1.0", "1.41")
		r.Info.Description = []string{"", "Install complete", "Upgrade complete"}[rev]
		r.Info.Notes = "Open http://wiki.team.svc/ to use the wiki."
		r.Chart.Metadata.Description = "MediaWiki with its MariaDB database."
		r.Chart.Metadata.Annotations = map[string]string{plan.ResolvedAnnotation: `[{"instance":"database","bundle":"mariadb","version":"1.0.0","repository":"stable"}]`}
		r.Chart.Metadata.Dependencies = []*chart.Dependency{{Name: "mariadb", Version: "1.0.0", Alias: "database", Enabled: true}}
		r.Chart.Values = map[string]any{"wiki": map[string]any{"name": "My Wiki", "replicas": 1}, "database": map[string]any{"auth": map[string]any{"database": "wiki"}}}
		r.Config = map[string]any{"wiki": map[string]any{"name": []string{"", "Docs", "Team Wiki"}[rev]}}
		r.Manifest = "---\n# Source: mediawiki/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wiki\ndata:\n  sitename: " + []string{"", "Docs", "Team Wiki"}[rev] + "\n"
		r.Hooks = []*helmrelease.Hook{{
			Name: "wiki-test-connection", Kind: "Pod", Path: "mediawiki/templates/tests/test-connection.yaml",
			Manifest: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: wiki-test-connection\n  annotations:\n    helm.sh/hook: test\nspec:\n  restartPolicy: Never\n  containers:\n  - name: curl\n    image: curlimages/curl:8.8.0\n    args: [http://wiki]\n",
			Events:   []helmrelease.HookEvent{helmrelease.HookTest},
		}}
		if rev == 2 {
			r.Hooks[0].LastRun = helmrelease.HookExecution{StartedAt: releasetest.Time(30), CompletedAt: releasetest.Time(31), Phase: helmrelease.HookPhaseSucceeded}
		}
		f.Store(t, r)
	}
	blog := releasetest.Release("blog", "team", 3, rcommon.StatusFailed, "wordpress", "1.0.0", "6.5")
	blog.Info.Description = "Install failed: timed out"
	// Recorded before bundle marked disabled requirements itself: Helm's
	// Enabled says the cache was not installed.
	blog.Chart.Metadata.Annotations = map[string]string{plan.ResolvedAnnotation: `[{"instance":"database","bundle":"mariadb","version":"1.0.0","repository":"stable"},{"instance":"cache","bundle":"memcached","version":"1.0.0","repository":"stable"}]`}
	// What the user gave, and the wiring bundle computed into it.
	blog.Config = map[string]any{
		"objectCache": map[string]any{"enabled": false},
		"database":    map[string]any{},
		"requires":    map[string]any{"database": map[string]any{"host": "blog-database.team.svc", "port": "3306"}},
	}
	blog.Chart.Metadata.Dependencies = []*chart.Dependency{{Name: "mariadb", Version: "1.0.0", Alias: "database", Enabled: true}, {Name: "memcached", Version: "1.0.0", Alias: "cache", Condition: "objectCache.enabled"}}
	old := releasetest.Release("old", "team", 1, rcommon.StatusUninstalled, "redis", "1.0.0", "7.2")
	old.Info.Deleted = releasetest.Time(50)
	docs := releasetest.Release("docs", "other", 4, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41")
	f.Store(t, blog, old, docs)
	return f
}

// golden compares got with testdata/NAME, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestReleaseOutputsGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"list.txt", []string{"list"}},
		{"list-all.txt", []string{"list", "-A", "--all"}},
		{"list.json", []string{"list", "-o", "json"}},
		{"list.yaml", []string{"list", "-o", "yaml"}},
		{"list-short.json", []string{"list", "-q", "-o", "json"}},
		{"list-time-format.json", []string{"list", "--deployed", "--time-format", "2006-01-02 15:04", "-o", "json"}},
		{"history.txt", []string{"history", "wiki"}},
		{"history.json", []string{"history", "wiki", "-o", "json"}},
		{"history.yaml", []string{"history", "wiki", "-o", "yaml"}},
		{"status.txt", []string{"status", "wiki", "--show-desc"}},
		{"status.json", []string{"status", "wiki", "-o", "json"}},
		{"status.yaml", []string{"status", "wiki", "-o", "yaml"}},
		{"status-revision1.json", []string{"status", "wiki", "--revision", "1", "-o", "json"}},
		{"get-values.txt", []string{"get", "values", "wiki"}},
		{"get-values.json", []string{"get", "values", "wiki", "-o", "json"}},
		{"get-values-all.yaml", []string{"get", "values", "wiki", "--all", "-o", "yaml"}},
		{"get-values-revision1.txt", []string{"get", "values", "wiki", "--revision", "1"}},
		{"get-manifest.txt", []string{"get", "manifest", "wiki"}},
		{"get-notes.txt", []string{"get", "notes", "wiki"}},
		{"get-hooks.txt", []string{"get", "hooks", "wiki"}},
		{"get-metadata.txt", []string{"get", "metadata", "wiki"}},
		{"get-metadata.json", []string{"get", "metadata", "wiki", "-o", "json"}},
		{"get-all.txt", []string{"get", "all", "wiki"}},
		{"get-all.json", []string{"get", "all", "wiki", "-o", "json"}},
		{"status-disabled.txt", []string{"status", "blog"}},
		{"status-disabled.json", []string{"status", "blog", "-o", "json"}},
		{"get-all-disabled.txt", []string{"get", "all", "blog"}},
		{"get-values-wiring.txt", []string{"get", "values", "blog"}},
		{"get-values-wiring.json", []string{"get", "values", "blog", "-o", "json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errs := runWith(t, fixture(t), tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden(t, filepath.Join("releases", tt.golden), out)
		})
	}
}

// The JSON of status, get metadata and get values holds every field Helm's
// own output has, with Helm's values (bundle only adds fields).
func TestJSONIsHelms(t *testing.T) {
	f := fixture(t)
	cfg := f.Config()
	rel := f.Last(t, "wiki")
	stripped := *rel
	stripped.Chart = nil // helm status strips the chart
	meta, err := action.NewGetMetadata(cfg).Run("wiki")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := action.NewGetValues(cfg).Run("wiki")
	if err != nil {
		t.Fatal(err)
	}
	all := action.NewGetValues(cfg)
	all.AllValues = true
	allVals, err := all.Run("wiki")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		helm any
	}{
		{[]string{"status", "wiki", "-o", "json"}, &stripped},
		{[]string{"get", "all", "wiki", "-o", "json"}, &stripped},
		{[]string{"get", "metadata", "wiki", "-o", "json"}, meta},
		{[]string{"get", "values", "wiki", "-o", "json"}, vals},
		{[]string{"get", "values", "wiki", "-a", "-o", "json"}, allVals},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			b, err := json.Marshal(tt.helm)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			json.Unmarshal(b, &want)
			code, out, errs := runWith(t, f, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if path, diff := testutil.Subset(want, got, "$"); diff != "" {
				t.Errorf("%s: %s", path, diff)
			}
			// YAML is the same document.
			_, yout, _ := runWith(t, f, append(tt.args[:len(tt.args)-1], "yaml")...)
			var fromYAML any
			if err := yaml.Unmarshal([]byte(yout), &fromYAML); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromYAML, got) {
				t.Errorf("-o yaml differs from -o json:\n%s", yout)
			}
		})
	}
}

func TestListFlags(t *testing.T) {
	f := fixture(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list", "-q"}, "blog\nwiki\n"},
		{[]string{"list", "-q", "--all"}, "blog\nold\nwiki\n"},
		{[]string{"list", "-q", "-a", "-r"}, "wiki\nold\nblog\n"},
		{[]string{"list", "-q", "--deployed"}, "wiki\n"},
		{[]string{"list", "-q", "--failed"}, "blog\n"},
		{[]string{"list", "-q", "--uninstalled"}, "old\n"},
		{[]string{"list", "-q", "--superseded"}, "wiki\n"},
		{[]string{"list", "-q", "--pending"}, ""},
		{[]string{"list", "-q", "--uninstalling"}, ""},
		{[]string{"list", "-q", "-A"}, "blog\ndocs\nwiki\n"},
		{[]string{"list", "-q", "-f", "^w"}, "wiki\n"},
		{[]string{"list", "-q", "--filter", "o"}, "blog\n"},
		{[]string{"list", "-q", "-m", "1"}, "blog\n"},
		{[]string{"list", "-q", "--offset", "1"}, "wiki\n"},
		{[]string{"list", "-q", "-a", "-d"}, "old\nwiki\nblog\n"},
		{[]string{"list", "-q", "-l", "name=blog"}, "blog\n"},
		{[]string{"list", "--no-headers", "--deployed"}, "wiki  team  2  deployed  mediawiki-1.1.0  1.41  2024-05-01T10:02:00Z\n"},
		{[]string{"ls", "-q"}, "blog\nwiki\n"},
		{[]string{"history", "wiki", "--max", "1", "-o", "json"}, "[\n  {\n    \"revision\": 2,\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runWith(t, f, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.HasPrefix(out, tt.want) || (!strings.HasPrefix(tt.args[0], "hist") && out != tt.want) {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

func TestReleaseCommandErrors(t *testing.T) {
	f := fixture(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"get", "values", "nope"}, ExitError, `Error: release "nope" not found in namespace "team" (see bundle list -A)`},
		{[]string{"get", "values", "wiki", "--revision", "9"}, ExitError, `Error: release "wiki" has no revision 9 in namespace "team": its revisions go up to 2 (see bundle history wiki -n team)`},
		{[]string{"get", "values", "wiki", "--revision", "0"}, ExitUsage, `Error: --revision 0: give a revision number from bundle history (see bundle get values --help)`},
		{[]string{"get", "values"}, ExitUsage, `Error: expected NAME, got 0 arguments (see bundle get values --help)`},
		{[]string{"get", "manifest", "wiki", "-o", "json"}, ExitUsage, `Error: flag provided but not defined: -o (see bundle get manifest --help)`},
		{[]string{"get", "valeus", "wiki"}, ExitUsage, `Error: unknown command "valeus" for "bundle get" (did you mean "values"?)`},
		{[]string{"status", "wiki", "-o", "xml"}, ExitUsage, `Error: --output "xml": use table, json or yaml (see bundle status --help)`},
		{[]string{"list", "-f", "a("}, ExitUsage, "Error: --filter \"a(\": error parsing regexp: missing closing ): `a(` (write a regular expression such as '^wiki') (see bundle list --help)"},
		{[]string{"list", "--offset", "-1"}, ExitUsage, `Error: --max 256, --offset -1: must not be negative (see bundle list --help)`},
		{[]string{"history", "wiki", "--max", "0"}, ExitUsage, `Error: --max 0: must be at least 1 (see bundle history --help)`},
		{[]string{"test", "wiki", "--filter", "wiki-test"}, ExitUsage, `Error: --filter "wiki-test": write name=TEST to run only TEST, or '!name=TEST' to skip it (see bundle test --help)`},
		{[]string{"test", "wiki", "--filter", "name=nope"}, ExitError, `Error: release "wiki" has no test named "nope" (its tests: wiki-test-connection)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runWith(t, f, tt.args...)
			if code != tt.code || errs != tt.want+"\n" {
				t.Errorf("exit %d, stderr %q\nwant exit %d, %q", code, errs, tt.code, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

func TestTestCommand(t *testing.T) {
	f := fixture(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "wiki-test-connection", Namespace: "team"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "curl"}}}}
	f.Clientset.CoreV1().Pods("team").Create(context.Background(), pod, metav1.CreateOptions{})
	code, out, errs := runWith(t, f, "test", "wiki", "--logs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The run's times are real; the rest is fixed.
	for _, want := range []string{"NAME: wiki\n", "NAMESPACE: team\nSTATUS: deployed\nREVISION: 2\n", "TEST SUITE:     wiki-test-connection\nLast Started:   ", "Phase:          Succeeded\n", "NOTES:\nOpen http://wiki.team.svc/ to use the wiki.\n", "\nPOD LOGS: wiki-test-connection (container curl)\nfake logs\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// bundle status shows the new run.
	_, st, _ := runWith(t, f, "status", "wiki")
	if strings.Contains(st, "Wed May  1 10:31:00 2024") || !strings.Contains(st, "Phase:          Succeeded") {
		t.Errorf("status does not show the new test run:\n%s", st)
	}

	f.Kube.WatchUntilReadyError = errTestPod
	code, out, errs = runWith(t, f, "test", "wiki", "--hide-notes")
	if code != ExitError {
		t.Errorf("failing test: exit %d", code)
	}
	if want := "Error: release \"wiki\": test wiki-test-connection failed: pod wiki-test-connection failed (see the test pods' output with bundle test wiki --logs)\n"; errs != want {
		t.Errorf("stderr %q\nwant   %q", errs, want)
	}
	if !strings.Contains(out, "Phase:          Failed") || strings.Contains(out, "NOTES:") {
		t.Errorf("output:\n%s", out)
	}
}

type testPodError struct{}

func (testPodError) Error() string { return "pod wiki-test-connection failed" }

var errTestPod = testPodError{}

// --debug logs the requests; a Secret's value and the token do not show.
func TestDebugFlag(t *testing.T) {
	const password = "pa55-w0rd-xyz"
	rel := releasetest.Release("wiki", "team", 1, rcommon.StatusDeployed, "mediawiki", "1.1.0", "1.41")
	rel.Config = map[string]any{"database": map[string]any{"auth": map[string]any{"password": password}}}
	kubeconfig := releasetest.APIServer(t, "team", rel)
	for _, args := range [][]string{
		{"list", "--debug", "--kubeconfig", kubeconfig},
		{"--debug", "list", "--kubeconfig", kubeconfig},
	} {
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, errs)
		}
		if !strings.Contains(out, "wiki") {
			t.Errorf("%s: no release listed: %s", args, out)
		}
		if !strings.Contains(errs, "debug: -> GET https://127.0.0.1:") || !strings.Contains(errs, "/api/v1/namespaces/team/secrets?labelSelector=owner%3Dhelm") {
			t.Errorf("%s: requests not logged:\n%s", args, errs)
		}
		for _, leak := range []string{password, releasetest.Token} {
			if strings.Contains(errs, leak) {
				t.Errorf("%s: --debug output shows %q", args, leak)
			}
		}
	}
	// Without --debug nothing is logged.
	if _, _, errs := run(t, "list", "--kubeconfig", kubeconfig); errs != "" {
		t.Errorf("stderr without --debug: %q", errs)
	}
}
