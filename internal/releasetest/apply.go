package releasetest

import (
	"context"
	"testing"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Apply creates (or replaces) the ConfigMaps and Secrets of manifest in
// the fake cluster, in namespace ns unless they name theirs.
func (f *Fixture) Apply(t testing.TB, ns, manifest string) {
	t.Helper()
	ctx := context.Background()
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.Unmarshal([]byte(doc), &cm); err != nil {
				t.Fatal(err)
			}
			if cm.Namespace == "" {
				cm.Namespace = ns
			}
			_ = f.Clientset.CoreV1().ConfigMaps(cm.Namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{})
			if _, err := f.Clientset.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, &cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		case "Secret":
			var s corev1.Secret
			if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			if s.Namespace == "" {
				s.Namespace = ns
			}
			_ = f.Clientset.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
			if _, err := f.Clientset.CoreV1().Secrets(s.Namespace).Create(ctx, &s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
