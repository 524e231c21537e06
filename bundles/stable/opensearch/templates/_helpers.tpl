{{/* Name of the release's OpenSearch objects. */}}
{{- define "opensearch.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "opensearch.selectorLabels" -}}
app.kubernetes.io/name: opensearch
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end -}}

{{- define "opensearch.labels" -}}
{{ include "opensearch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "opensearch-%s" .Chart.Version }}
{{- end -}}

{{/* Nodes eligible as cluster manager at bootstrap: every pod. */}}
{{- define "opensearch.initialManagers" -}}
{{- $out := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $out = append $out (printf "%s-%d" (include "opensearch.fullname" $) $i) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}
