{{/*
Labels that select the chart's pods. Call with
(dict "context" $ "name" NAME "component" BOOL): NAME is the chart's own
name (its .Chart.Name is the instance name when bundle composes it under
one); component true adds app.kubernetes.io/component, the instance name.
*/}}
{{- define "common.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .context.Release.Name | quote }}
{{- if .component }}
app.kubernetes.io/component: {{ .context.Chart.Name | quote }}
{{- end }}
{{- end -}}

{{/*
Every label of the chart's objects: the selector labels, then version,
manager and chart (NAME-VERSION). Called as common.selectorLabels.
*/}}
{{- define "common.labels" -}}
{{ include "common.selectorLabels" . }}
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .name .context.Chart.Version }}
{{- end -}}
