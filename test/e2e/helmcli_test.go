package e2e

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bundlesh/bundle/internal/testutil"
)

// probeBundle is a local bundle with a Secret from values, a requirement,
// NOTES and two test hooks: a Job and a bare Pod.
const probeBundle = "testdata/probe"

// Helm users' everyday commands on a real release: --debug never shows a
// Secret's value, bundle's -o json carries everything helm's does, bundle
// get prints what helm get prints, and bundle test runs test hooks.
func TestHelmUsersCommands(t *testing.T) {
	e, ns := setupIn(t, "helmcli")
	dir := probeBundle
	kc := "--kubeconfig=" + e.kubeconfig

	// --debug at install (create) and upgrade (patch) of a Secret.
	for i, password := range []string{"Install-S3cret-4921", "Upgrade-S3cret-7733"} {
		args := []string{"install", "probe", dir, "-n", ns, "--create-namespace", "--wait", "--timeout", "3m", "--set", "password=" + password, "--debug"}
		if i == 1 {
			args = []string{"upgrade", "probe", dir, "-n", ns, "--wait", "--timeout", "3m", "--set", "password=" + password, "--debug"}
		}
		code, _, errs := e.bundle(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, lastLines(errs, 5))
		}
		for _, want := range []string{"debug: -> POST ", "debug: <- 201 Created POST ", "/secrets", "debug: helm: "} {
			if !strings.Contains(errs, want) {
				t.Errorf("%s --debug lacks %q", args[0], want)
			}
		}
		for _, leak := range []string{password, base64.StdEncoding.EncodeToString([]byte(password))} {
			if strings.Contains(errs, leak) {
				t.Errorf("%s --debug shows the Secret's value (%q)", args[0], leak)
			}
		}
	}

	// JSON: helm's document is contained in bundle's.
	helm := helmCLI(t)
	helmOut := func(args ...string) string {
		t.Helper()
		return runHelm(t, helm, append(args, "-n", ns, "--kubeconfig", e.kubeconfig)...)
	}
	for _, args := range [][]string{
		{"list", "-o", "json"},
		{"list", "--all", "-o", "yaml"},
		{"history", "probe", "-o", "json"},
		{"status", "probe", "-o", "json"},
		{"status", "probe", "--revision", "1", "-o", "yaml"},
		{"get", "values", "probe", "-o", "json"},
		{"get", "values", "probe", "--all", "-o", "json"},
		{"get", "values", "probe", "--revision", "1", "-o", "yaml"},
		{"get", "metadata", "probe", "-o", "json"},
	} {
		var want, got any
		if err := yamlUnmarshal(helmOut(args...), &want); err != nil {
			t.Fatal(err)
		}
		if err := yamlUnmarshal(e.mustBundle(t, append(args, "-n", ns, kc)...), &got); err != nil {
			t.Fatal(err)
		}
		if path, diff := testutil.Subset(want, got, "$"); diff != "" {
			t.Errorf("bundle %s: %s: %s", strings.Join(args, " "), path, diff)
		}
	}
	// Text: exactly helm's.
	for _, args := range [][]string{
		{"get", "manifest", "probe"},
		{"get", "hooks", "probe"},
		{"get", "notes", "probe"},
		{"get", "values", "probe"},
		{"get", "values", "probe", "--all"},
	} {
		if got, want := e.mustBundle(t, append(args, "-n", ns, kc)...), helmOut(args...); got != want {
			t.Errorf("bundle %s:\n%s\nhelm:\n%s", strings.Join(args, " "), got, want)
		}
	}

	// bundle test: the Job test completes (kwok completes Job pods).
	out := e.mustBundle(t, "test", "probe", "-n", ns, kc, "--filter", "name=probe-test-job", "--timeout", "2m")
	for _, want := range []string{"TEST SUITE:     probe-test-job\n", "Phase:          Succeeded\n", "SKIPPED:        probe-test-pod\n", "NOTES:\nprobe probe uses probe-cache."} {
		if !strings.Contains(out, want) {
			t.Errorf("bundle test lacks %q:\n%s", want, out)
		}
	}
	// helm sees the run bundle recorded.
	var st struct {
		Hooks []struct {
			Name    string `json:"name"`
			LastRun struct {
				Phase string `json:"phase"`
			} `json:"last_run"`
		} `json:"hooks"`
	}
	json.Unmarshal([]byte(helmOut("status", "probe", "-o", "json")), &st)
	phases := map[string]string{}
	for _, h := range st.Hooks {
		phases[h.Name] = h.LastRun.Phase
	}
	if want := map[string]string{"probe-test-job": "Succeeded", "probe-test-pod": ""}; !reflect.DeepEqual(phases, want) {
		t.Errorf("helm status sees the test hooks as %v, want %v", phases, want)
	}
	// A bare test Pod: kwok keeps a Pod without a Job owner Running (its
	// pod-complete stage only completes Job pods), so it never succeeds.
	code, out, errs := e.bundle(t, "test", "probe", "-n", ns, kc, "--filter", "name=probe-test-pod", "--timeout", "10s")
	if code != 1 || !strings.HasPrefix(errs, `Error: release "probe": test probe-test-pod failed: `) || !strings.Contains(out, "Phase:          Failed") {
		t.Errorf("bare Pod test under kwok: exit %d\n%s%s", code, out, errs)
	}
	all := e.mustBundle(t, "get", "all", "probe", "-n", ns, kc)
	for _, want := range []string{"NAME: probe\n", "REVISION: 2\n", "REQUIRES:\n  cache: memcached 1.0.5 from stable\n", "TEST SUITE:     probe-test-job\n", "USER-SUPPLIED VALUES:\n", "COMPUTED VALUES:\n", "HOOKS:\n", "MANIFEST:\n", "kind: ConfigMap"} {
		if !strings.Contains(all, want) {
			t.Errorf("get all lacks %q:\n%s", want, all)
		}
	}
	e.mustBundle(t, "uninstall", "probe", "-n", ns, "--wait")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// yamlUnmarshal reads JSON or YAML.
func yamlUnmarshal(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }
