package render

// Grants (plan.GrantRecord): a provider's owner publishes, for one
// consumer of another namespace, a release of its own in the provider's
// namespace: the claim's objects (its Secret, ConfigMap, Jobs and unclaim
// hook, from the provider's claim templates), a ConfigMap holding the
// grant record, and a Role and RoleBinding that let the consumer's
// subjects get that ConfigMap and that Secret by name, and nothing else.
// The consumer's release then holds only its own copy of the password
// (GrantCopy), read from the granted Secret with lookup.

import (
	"encoding/json"
	"fmt"
	"strings"

	common "helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/bundlesh/bundle/pkg/plan"
)

// GrantName names a grant's release and objects in the provider's
// namespace: the consumer's ClaimName cut to 31 characters and a hash of
// the provider release and the consumer's namespace, release and
// instance: at most 40 characters, a valid release name.
func GrantName(provider string, c plan.Consumer) string {
	n := ClaimName(c.Release, c.Instance)
	if len(n) > 31 {
		n = strings.TrimRight(n[:31], "-")
	}
	return n + "-" + shortHash("grant/"+provider+"/"+c.Namespace+"/"+c.Release+"/"+c.Instance)
}

// GrantChartSuffix ends the chart name of a grant's release: the
// provider's bundle name and -grant (mariadb-grant).
const GrantChartSuffix = "-grant"

// Grant labels, on a grant's objects: the provider release it is of, and
// the consumer's namespace, release and instance.
const (
	GrantOfLabel        = "bundle.sh/grant-of"
	GrantNamespaceLabel = "bundle.sh/grant-namespace"
	GrantReleaseLabel   = "bundle.sh/grant-release"
	GrantInstanceLabel  = "bundle.sh/grant-instance"
)

// Subject is one RBAC subject a grant lets read what it publishes, as in
// a RoleBinding: Kind User, Group or ServiceAccount (with Namespace).
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// GrantChart is the chart and values of the grant of provider binding b
// (its bundle as its repository serves it, its outputs rendered for its
// release) for consumer c, readable by subjects, and the record it
// publishes. With claims, the provider's claim templates render in the
// provider's namespace with c's identity: the claim's Secret, ConfigMap
// and Jobs are all named GrantName.
func GrantChart(b *plan.Binding, c plan.Consumer, subjects []Subject) (*chart.Chart, map[string]any, *plan.GrantRecord, error) {
	name := GrantName(b.Release, c)
	rec := &plan.GrantRecord{
		Provider: plan.GrantProvider{
			Release: b.Release, Namespace: b.Namespace, Bundle: b.Provider.Name, Version: b.Provider.Version.String(),
			Repository: b.Repository, Digest: b.Digest, Outputs: b.Outputs,
		},
		Consumer: c,
	}
	vals := map[string]any{}
	chrt := &chart.Chart{
		Metadata: &chart.Metadata{
			APIVersion:  chart.APIVersionV2,
			Name:        b.Provider.Name + GrantChartSuffix,
			Version:     b.Provider.Version.String(),
			AppVersion:  b.Provider.AppVersion,
			Type:        "application",
			Description: fmt.Sprintf("what %s/%s grants %s", b.Namespace, b.Release, c),
		},
		Values: map[string]any{},
	}
	if b.Claims() != nil {
		cv := grantClaimValues(b, c, name)
		rec.Claim = &plan.GrantClaim{ID: fmt.Sprint(cv["id"]), Secret: name}
		addClaimParts(chrt, b, ClaimKey, "grant")
		addClaimTemplates(chrt, b)
		vals[ClaimKey] = cv
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, nil, err
	}
	chrt.Metadata.Annotations = map[string]string{plan.GrantAnnotation: string(data)}
	subs := make([]any, 0, len(subjects))
	for _, s := range subjects {
		m := map[string]any{"kind": s.Kind, "name": s.Name}
		if s.Kind == "ServiceAccount" {
			m["namespace"] = s.Namespace
		} else {
			m["apiGroup"] = "rbac.authorization.k8s.io"
		}
		subs = append(subs, m)
	}
	g := map[string]any{
		"name": name, "record": string(data), "subjects": subs,
		"provider": b.Release, "consumer": map[string]any{"namespace": c.Namespace, "release": c.Release, "instance": c.Instance},
	}
	if rec.Claim != nil {
		g["secret"] = rec.Claim.Secret
	}
	vals["grant"] = g
	chrt.Templates = append(chrt.Templates, &common.File{Name: "templates/bundle-grant.yaml", Data: []byte(grantTemplate)})
	return chrt, vals, rec, nil
}

// grantClaimValues are the claim values of consumer c's claim made by its
// grant name in provider binding b's namespace: c's identity (so its id
// is the one an app of c's namespace would have had), with the claim's
// Secret and its Jobs' objects all named name.
func grantClaimValues(b *plan.Binding, c plan.Consumer, name string) map[string]any {
	cb := *b
	cb.ClaimHolder, cb.Grant = "", nil
	cv := ClaimValues(&cb, c.Instance, ReleaseOptions{Name: c.Release, Namespace: c.Namespace})
	cv["name"], cv["jobName"], cv["jobNamespace"] = name, name, b.Namespace
	return cv
}

// grantTemplate renders a grant's record ConfigMap, and the Role and
// RoleBinding that let its subjects get that ConfigMap and the claim's
// Secret, by name.
const grantTemplate = `{{- $g := .Values.grant -}}
{{- define "bundle.grantLabels" -}}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/component: grant
` + GrantOfLabel + `: {{ .g.provider | quote }}
` + GrantNamespaceLabel + `: {{ .g.consumer.namespace | quote }}
` + GrantReleaseLabel + `: {{ .g.consumer.release | quote }}
` + GrantInstanceLabel + `: {{ .g.consumer.instance | quote }}
{{- end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $g.name }}-grant
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bundle.grantLabels" (dict "root" . "g" $g) | nindent 4 }}
data:
  ` + plan.GrantRecordKey + `: {{ $g.record | quote }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $g.name }}-grant
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bundle.grantLabels" (dict "root" . "g" $g) | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [{{ printf "%s-grant" $g.name | quote }}]
    verbs: [get]
  {{- if $g.secret }}
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [{{ $g.secret | quote }}]
    verbs: [get]
  {{- end }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $g.name }}-grant
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "bundle.grantLabels" (dict "root" . "g" $g) | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $g.name }}-grant
subjects:
  {{- toYaml $g.subjects | nindent 2 }}
`

// grantCopyTemplate is a granted claim's template in the consumer's
// release: the claim's Secret of the consumer's namespace, its data copied
// from the grant's Secret (lookup by name: what the grant lets the
// consumer get), else kept from the Secret itself.
const grantCopyTemplate = `{{- $c := .Values.claim -}}
{{- $g := $c.grant -}}
{{- $data := dict -}}
{{- $from := lookup "v1" "Secret" $g.namespace $g.name -}}
{{- if and $from $from.data }}{{ $data = $from.data }}
{{- else }}
{{- $own := lookup "v1" "Secret" .Release.Namespace $c.name -}}
{{- if and $own $own.data }}{{ $data = $own.data }}{{ end -}}
{{- end -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $c.name }}
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/name: {{ printf "%s-claim" $c.provider.bundle | quote }}
    app.kubernetes.io/instance: {{ .Release.Name | quote }}
    app.kubernetes.io/component: {{ $c.instance | quote }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
  annotations:
    bundle.sh/granted-by: {{ printf "%s/%s" $g.namespace $g.name | quote }}
type: Opaque
{{- if $data }}
data:
  {{- range $k, $v := $data }}
  {{ $k | quote }}: {{ $v | quote }}
  {{- end }}
{{- end }}
`
