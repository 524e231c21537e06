package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersions(t *testing.T) {
	deps := []*debug.Module{
		{Path: "helm.sh/helm/v4", Version: "v4.3.2"},
		{Path: "k8s.io/client-go", Version: "v0.37.0"},
		{Path: "k8s.io/api", Version: "v0.37.0"},
	}
	tests := []struct {
		name  string
		info  *debug.BuildInfo
		ok    bool
		want  versionInfo
		short string
	}{
		{"no build info", nil, false,
			versionInfo{Version: Version, GoVersion: runtime.Version(), HelmVersion: "unknown", KubernetesClientVersion: "unknown"}, Version},
		{"development build", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/bundlesh/bundle", Version: "(devel)"}, Deps: deps}, true,
			versionInfo{Version: Version, GoVersion: "go1.26.0", HelmVersion: "v4.3.2", KubernetesClientVersion: "v0.37.0"}, Version},
		{"go install of a release, from git", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Deps: deps,
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}}, true,
			versionInfo{Version: "v1.2.3", GitCommit: "0123456789abcdef", GitTreeState: "dirty", GoVersion: "go1.26.0", HelmVersion: "v4.3.2", KubernetesClientVersion: "v0.37.0"}, "v1.2.3+g0123456"},
		{"replaced Helm", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Deps: []*debug.Module{
			{Path: "helm.sh/helm/v4", Version: "v4.3.2", Replace: &debug.Module{Path: "../helm", Version: "v4.3.3-fork"}},
		}}, true,
			versionInfo{Version: Version, GoVersion: runtime.Version(), HelmVersion: "v4.3.3-fork", KubernetesClientVersion: "unknown"}, Version},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versions(tt.info, tt.ok)
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.short() != tt.short {
				t.Errorf("short %q, want %q", got.short(), tt.short)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	if _, out, _ := run(t, "version", "--short"); out != Version+"\n" {
		t.Errorf("version --short: %q", out)
	}
	if _, out, _ := run(t, "version", "--short", "-o", "yaml"); out != "version: "+Version+"\n" {
		t.Errorf("version --short -o yaml: %q", out)
	}
	code, out, _ := run(t, "version")
	for _, want := range []string{"bundle:             " + Version + "\n", "helm sdk:", "kubernetes client:", "go:                 " + runtime.Version()} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
}
