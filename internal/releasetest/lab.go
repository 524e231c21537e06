package releasetest

import (
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/bundlesh/bundle/pkg/bundle"
)

// BindShelf is a shelf with db 1.0.0, 1.1.0 and 2.0.0 (offering host and
// secret), kv 1.0.0, and app 1.0.0 requiring db ^1.0.0 (host and secret
// into a ConfigMap): the bundles of the binding tests.
func BindShelf(t testing.TB) *Shelf {
	t.Helper()
	lab := NewShelf()
	db := map[string]string{
		"bundle.yaml":        "apiVersion: bundle/v1\nkind: Bundle\noutputs:\n  host: '{{ .Release.Name }}-db.{{ .Release.Namespace }}.svc'\n  secret: '{{ .Release.Name }}-{{ .Values.secretSuffix }}'\n",
		"values.yaml":        "secretSuffix: auth\n",
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-db\nspec:\n  ports: [{port: 3306}]\n",
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		lab.Put(t, "db", v, db)
	}
	lab.Put(t, "kv", "1.0.0", map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-kv'}\n"})
	lab.Put(t, "app", "1.0.0", map[string]string{
		"bundle.yaml":       "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: db, repository: lab, version: ^1.0.0, outputs: [host, secret]}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n  host: {{ .Values.requires.database.host | quote }}\n  secret: {{ .Values.requires.database.secret | quote }}\n",
	})
	return lab
}

// AddClaimBundles adds to lab cdb 1.0.0, a provider offering claims (a Secret
// naming the claim's provider and user), and capp 1.0.0 requiring it (its
// host and secret into a ConfigMap), with a Service and an Ingress named
// after its release.
func AddClaimBundles(t testing.TB, lab *Shelf) {
	t.Helper()
	lab.Put(t, "cdb", "1.0.0", map[string]string{
		"bundle.yaml": `apiVersion: bundle/v1
kind: Bundle
outputs:
  host: '{{ .Release.Name }}-db.{{ .Release.Namespace }}.svc'
  secret: '{{ .Release.Name }}-auth'
claims:
  outputs:
    secret: '{{ .Values.claim.name }}'
  templates:
    secret.yaml: |
      apiVersion: v1
      kind: Secret
      metadata:
        name: {{ .Values.claim.name }}
        annotations:
          provider: {{ .Values.claim.provider.namespace }}/{{ .Values.claim.provider.release }}
          user: {{ .Values.claim.id }}
`,
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-db\nspec:\n  ports: [{port: 3306}]\n",
	})
	lab.Put(t, "capp", "1.0.0", map[string]string{
		"bundle.yaml":            "apiVersion: bundle/v1\nkind: Bundle\nrequires:\n  database: {bundle: cdb, repository: lab, version: ^1.0.0, outputs: [host, secret]}\n",
		"templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\ndata:\n  host: {{ .Values.requires.database.host | quote }}\n  secret: {{ .Values.requires.database.secret | quote }}\n",
		"templates/svc.yaml":     "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}'}\nspec:\n  selector: {app: '{{ .Release.Name }}'}\n  ports: [{port: 80}]\n",
		"templates/ingress.yaml": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: '{{ .Release.Name }}'}\nspec:\n  rules:\n  - host: '{{ .Values.host | default \"app\" }}.example.com'\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: '{{ .Release.Name }}', port: {number: 80}}}}\n",
	})
}

// Constraint is s parsed as a bundle.yaml version constraint.
func Constraint(t testing.TB, s string) *semver.Constraints {
	t.Helper()
	c, err := bundle.ParseConstraint(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
