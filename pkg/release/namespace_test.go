package release

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveNamespace(t *testing.T) {
	fixture, err := filepath.Abs("testdata/kubeconfig-namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".kube"), 0o755)
	data, _ := os.ReadFile(fixture)
	os.WriteFile(filepath.Join(home, ".kube", "config"), data, 0o600)
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	os.WriteFile(broken, []byte("contexts: [\n"), 0o600)

	tests := []struct {
		name string
		opts KubeOptions
		env  map[string]string
		want string
	}{
		{"--namespace wins", KubeOptions{Namespace: "flag", Kubeconfig: fixture}, map[string]string{"BUNDLE_NAMESPACE": "env"}, "flag"},
		{"$BUNDLE_NAMESPACE over the context's", KubeOptions{Kubeconfig: fixture}, map[string]string{"BUNDLE_NAMESPACE": "env"}, "env"},
		{"the current context's", KubeOptions{Kubeconfig: fixture}, nil, "team-ns"},
		{"--kube-context without a namespace", KubeOptions{Kubeconfig: fixture, Context: "plain"}, nil, "default"},
		{"--kube-context that does not exist", KubeOptions{Kubeconfig: fixture, Context: "nope"}, nil, "default"},
		{"$KUBECONFIG", KubeOptions{}, map[string]string{"KUBECONFIG": filepath.Join(home, "none.yaml") + string(filepath.ListSeparator) + fixture}, "team-ns"},
		{"~/.kube/config", KubeOptions{}, map[string]string{"HOME": home}, "team-ns"},
		{"--kubeconfig over ~/.kube/config", KubeOptions{Kubeconfig: fixture, Context: "plain"}, map[string]string{"HOME": home}, "default"},
		{"no kubeconfig", KubeOptions{}, nil, "default"},
		{"a missing --kubeconfig", KubeOptions{Kubeconfig: filepath.Join(home, "none.yaml")}, nil, "default"},
		{"a broken kubeconfig", KubeOptions{Kubeconfig: broken}, nil, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Getenv = func(k string) string { return tt.env[k] }
			if got := opts.ResolveNamespace(); got != tt.want {
				t.Errorf("namespace %q, want %q", got, tt.want)
			}
		})
	}
}
