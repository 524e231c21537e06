package testutil

import (
	"strings"
	"testing"
)

// Fixture builders: the skeleton of a chart and of the Kubernetes objects
// tests write again and again is written here once; a test names only what
// differs. What they return is YAML text (chart templates may hold template
// actions anywhere a value goes), laid out as the tests wrote it by hand:
// flow-style metadata and labels (block metadata where a test gives more
// of it), two-space indents; where a test compares text, it can rely on
// these bytes (fixtures_test.go pins them).

// Chart is the files of a chart (apiVersion v2) for WriteTree.
type Chart struct {
	Name    string
	Version string // "" is 1.0.0
	// Values is values.yaml, as written; "" leaves the file out.
	Values string
	// Templates are the files under templates/, by name there
	// ("deploy.yaml" is templates/deploy.yaml).
	Templates map[string]string
	// Files are any other files, by path in the chart (bundle.yaml,
	// charts/…); a path given here wins.
	Files map[string]string
}

// Tree is the chart's files by path: Chart.yaml, values.yaml, the
// templates and the other files.
func (c Chart) Tree() map[string]string {
	version := c.Version
	if version == "" {
		version = "1.0.0"
	}
	tree := map[string]string{"Chart.yaml": "apiVersion: v2\nname: " + c.Name + "\nversion: " + version + "\n"}
	if c.Values != "" {
		tree["values.yaml"] = c.Values
	}
	for name, text := range c.Templates {
		tree["templates/"+name] = text
	}
	for path, text := range c.Files {
		tree[path] = text
	}
	return tree
}

// Write writes the chart into dir with WriteTree and returns dir.
func (c Chart) Write(t testing.TB, dir string) string {
	t.Helper()
	return WriteTree(t, dir, c.Tree())
}

// Object is the YAML of one object: apiVersion, kind, metadata
// {name: name}, then body, its other top-level fields as written
// ("data:\n  a: b\n"); name may be a template action.
func Object(apiVersion, kind, name, body string) string {
	return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: " + name + "}\n" + body
}

// A DeploymentOption sets what a Deployment has beyond its skeleton.
type DeploymentOption func(*deployment)

type deployment struct {
	app, meta, replicas, annotations, pod string
}

// App is the value of the app label that the Deployment selects and its
// pods carry; without it, the Deployment's name. App("") leaves out the
// selector and the pods' metadata: an object cut down to the fields a
// test reads, as live objects in unit tests are.
func App(label string) DeploymentOption {
	return func(d *deployment) { d.app = label }
}

// Metadata is more of the Deployment's metadata, written from column 0
// after its name ("annotations: {a: b}\nmanagedFields:\n- …"); with it,
// metadata is a block, not a flow map.
func Metadata(fields string) DeploymentOption {
	return func(d *deployment) { d.meta = fields }
}

// Replicas sets spec.replicas, as written ("2", "{{ .Values.replicas }}");
// without it there is none.
func Replicas(n string) DeploymentOption {
	return func(d *deployment) { d.replicas = n }
}

// PodAnnotations are the pods' annotations, the inside of a flow map
// (`version: {{ .Values.version | quote }}`).
func PodAnnotations(flow string) DeploymentOption {
	return func(d *deployment) { d.annotations = flow }
}

// PodSpec is the pods' spec, written from column 0 (the builder indents
// it and ends it with a newline): "containers: [{name: web, image: nginx}]".
func PodSpec(spec string) DeploymentOption {
	return func(d *deployment) { d.pod = spec }
}

// DeploymentYAML is an apps/v1 Deployment named name (a template action
// is fine) that selects its pods by the label app: name (or App), with
// the options' metadata, replicas, pod annotations and pod spec, in that
// order; a test may append more top-level fields (status).
func DeploymentYAML(name string, opts ...DeploymentOption) string {
	d := deployment{app: name}
	for _, o := range opts {
		o(&d)
	}
	var b strings.Builder
	b.WriteString("spec:\n")
	if d.replicas != "" {
		b.WriteString("  replicas: " + d.replicas + "\n")
	}
	switch {
	case d.app == "":
		b.WriteString("  template:\n")
	case d.annotations == "":
		b.WriteString("  selector: {matchLabels: {app: " + d.app + "}}\n  template:\n")
		b.WriteString("    metadata: {labels: {app: " + d.app + "}}\n")
	default:
		b.WriteString("  selector: {matchLabels: {app: " + d.app + "}}\n  template:\n")
		b.WriteString("    metadata:\n      labels: {app: " + d.app + "}\n      annotations: {" + d.annotations + "}\n")
	}
	b.WriteString("    spec:\n" + Indent(withNewline(d.pod), "      "))
	if d.meta == "" {
		return Object("apps/v1", "Deployment", name, b.String())
	}
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n" + Indent(withNewline(d.meta), "  ") + b.String()
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// Indent puts prefix before every line of text that is not empty.
func Indent(text, prefix string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

// EvilClaims are claim templates (indented as under bundle.yaml's
// claims.templates) that whoever may write Secrets in a provider's
// namespace would add to its release record: one reads every Secret of
// the consumer's namespace into a ConfigMap, one makes its author admin
// there. Nothing a consumer installs may hold either.
const EvilClaims = `    steal.yaml: |
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: stolen
      data:
        secrets: {{ lookup "v1" "Secret" .Release.Namespace "" | toJson | quote }}
    grant.yaml: |
      apiVersion: rbac.authorization.k8s.io/v1
      kind: RoleBinding
      metadata:
        name: pwned
      roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
      subjects: [{kind: User, name: mallory}]
`
