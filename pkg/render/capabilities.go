package render

import (
	common "helm.sh/helm/v4/pkg/chart/common"
)

// kubeMinor is the minor version of the Kubernetes client libraries bundle
// is built with (k8s.io/client-go v0.37.x speaks Kubernetes 1.37). A test
// holds it to go.mod.
const kubeMinor = "37"

// DefaultKubeVersion is the Kubernetes version templates see without a
// cluster and without --kube-version: the one the client libraries bundle is
// built with speak. The helm CLI's release builds assume the same (Helm's
// Makefile sets it at link time from client-go's version); a plain go build
// of the Helm SDK says v1.20.0 instead.
func DefaultKubeVersion() *common.KubeVersion {
	return &common.KubeVersion{Version: "v1." + kubeMinor + ".0", Major: "1", Minor: kubeMinor}
}

// defaultCapabilities are the capabilities of a render without a cluster:
// Helm's defaults with DefaultKubeVersion.
func defaultCapabilities() *common.Capabilities {
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *DefaultKubeVersion()
	return caps
}
