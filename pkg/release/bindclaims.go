package release

// The claims of bindings (bundle.yaml claims:, see render.ClaimValues): a
// consumer's release holds its claim's objects, among them a ConfigMap
// labelled ClaimOfLabel that tells the claim's pre-delete hook whether to
// drop the consumer's database with its user.

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClaimOfLabel labels the ConfigMap of a consumer's claim with the
// consumer's release name. Uninstall --delete-data sets its key
// ClaimDeleteDataKey to "true" before Helm runs the pre-delete hooks, so
// that the claim's hook drops the database too, not only the user.
const (
	ClaimOfLabel       = "bundle.sh/claim-of"
	ClaimDeleteDataKey = "delete-data"
)

// markClaimsDeleteData sets ClaimDeleteDataKey on the claim ConfigMaps of
// release name in namespace ns.
func markClaimsDeleteData(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	l, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: ClaimOfLabel + "=" + name})
	if err != nil {
		return fmt.Errorf("finding the claims of bindings: %w", err)
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
		if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("marking claim %s/%s for deletion of its data: %w", ns, cm.Name, err)
		}
	}
	return nil
}
