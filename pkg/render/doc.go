// Package render composes a plan (package plan: the root bundle and the
// bundles its requirements resolved to) into one Helm chart, wires each
// requirement's outputs into the app, and renders Kubernetes manifests
// with Helm's engine, without a cluster. It resolves nothing and applies
// nothing: package release applies what it renders.
//
// The flow is: Chart composes the chart (requirements become subcharts
// under their instance names); Values computes each requirement's outputs
// with its final values and hands them to its parent under
// .Values.requires.INSTANCE; Render renders the manifests and hooks in
// Helm's install order, as structured Manifests (Template prints them as
// helm template does, WriteDir writes them as helm template --output-dir).
package render
