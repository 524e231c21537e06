package release

// The claims of bindings (bundle.yaml claims:, see render.ClaimValues): a
// consumer's release holds its claim's objects, among them a ConfigMap in
// the provider's namespace labelled with the consumer (ClaimOfLabel,
// ClaimNamespaceLabel), from which a provider finds the apps that claim
// from it even where it may not read their releases.

// ClaimOfLabel and ClaimNamespaceLabel label the ConfigMap of a consumer's
// claim with the consumer's release name and namespace (the ConfigMap is
// in the provider's namespace, with the claim's Jobs).
const (
	ClaimOfLabel        = "bundle.sh/claim-of"
	ClaimNamespaceLabel = "bundle.sh/claim-namespace"
)
