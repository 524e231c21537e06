{{/* Name of the release's MySQL objects. */}}
{{- define "mysql.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mysql.selectorLabels" -}}
app.kubernetes.io/name: mysql
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end -}}

{{- define "mysql.labels" -}}
{{ include "mysql.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "mysql-%s" .Chart.Version }}
{{- end -}}

{{/* Secret holding the passwords. */}}
{{- define "mysql.secretName" -}}
{{- .Values.auth.existingSecret | default (include "mysql.fullname" .) -}}
{{- end -}}

{{/*
A password: the value given, else the one already in the release's Secret
(so upgrades keep it), else a new random one. Call with (list $ "key" value).
*/}}
{{- define "mysql.password" -}}
{{- $top := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $old := lookup "v1" "Secret" $top.Release.Namespace (include "mysql.fullname" $top) -}}
{{- if and $old $old.data (hasKey $old.data $key) -}}
{{- index $old.data $key -}}
{{- else -}}
{{- randAlphaNum 24 | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}
