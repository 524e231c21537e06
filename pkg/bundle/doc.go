// Package bundle reads and validates bundles.
//
// A bundle is a Helm chart directory (Chart.yaml with apiVersion v2,
// values.yaml, templates/, optionally values.schema.json) plus an optional
// bundle.yaml that declares the infrastructure the app requires and the
// outputs the bundle offers to the apps that require it. The name and version
// of a bundle come from Chart.yaml only. A plain Helm chart without
// bundle.yaml is a valid bundle with no requirements.
//
// Parsing is strict: unknown fields, bad constraints and name clashes are
// reported as *FileError values that name the file, the line and the field.
// The format is documented in docs/bundle-file.md.
package bundle
