package render

import (
	"os"
	"regexp"
	"testing"
)

// DefaultKubeVersion follows the client-go in go.mod, as Helm's release
// builds do: bumping client-go without it fails here.
func TestDefaultKubeVersionFollowsClientGo(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/client-go v0\.(\d+)\.`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod requires no k8s.io/client-go v0.x")
	}
	if got := DefaultKubeVersion(); got.Minor != string(m[1]) || got.Version != "v1."+string(m[1])+".0" {
		t.Errorf("DefaultKubeVersion is %s, but go.mod has client-go v0.%s: set kubeMinor to %q", got.Version, m[1], m[1])
	}
}
