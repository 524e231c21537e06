package release

// The claims of bindings (bundle.yaml claims:, see render.ClaimValues): a
// consumer's release holds its claim's objects, among them a ConfigMap
// labelled ClaimOfLabel that tells the claim's pre-delete hook whether to
// drop the consumer's database with its user.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	helmrelease "helm.sh/helm/v3/pkg/release"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClaimOfLabel and ClaimNamespaceLabel label the ConfigMap of a consumer's
// claim with the consumer's release name and namespace (the ConfigMap is
// in the provider's namespace, with the claim's Jobs). Uninstall
// --delete-data sets its key ClaimDeleteDataKey to "true" before Helm runs
// the pre-delete hooks, so that the claim's hook drops the database too,
// not only the user.
const (
	ClaimOfLabel        = "bundle.sh/claim-of"
	ClaimNamespaceLabel = "bundle.sh/claim-namespace"
	ClaimDeleteDataKey  = "delete-data"
)

// markClaimsDeleteData sets ClaimDeleteDataKey on the claim ConfigMaps of
// release name of namespace ns, found in ns and in the namespace of each
// provider rel's bindings claim from.
func markClaimsDeleteData(ctx context.Context, cs kubernetes.Interface, ns, name string, rel *helmrelease.Release) error {
	namespaces := []string{ns}
	for _, r := range recordedBindings(rel) {
		if pns, _, ok := strings.Cut(r.Bound, "/"); ok && r.Claim && !slices.Contains(namespaces, pns) {
			namespaces = append(namespaces, pns)
		}
	}
	sel := ClaimOfLabel + "=" + name + "," + ClaimNamespaceLabel + "=" + ns
	for _, n := range namespaces {
		l, err := cs.CoreV1().ConfigMaps(n).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("finding the claims of bindings in namespace %s: %w", n, err)
		}
		for i := range l.Items {
			cm := &l.Items[i]
			if cm.Data[ClaimDeleteDataKey] == "true" {
				continue
			}
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[ClaimDeleteDataKey] = "true"
			if _, err := cs.CoreV1().ConfigMaps(n).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("marking claim %s/%s for deletion of its data: %w", n, cm.Name, err)
			}
		}
	}
	return nil
}
