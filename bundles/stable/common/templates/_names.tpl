{{/*
Name of the release's objects: RELEASE-CHART, or RELEASE when it already
holds the chart's name, at most 63 characters. CHART is the instance name
when bundle composes the chart under one. Call with the chart's context.
*/}}
{{- define "common.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Secret holding the chart's passwords: .Values.auth.existingSecret when set,
else the one the chart creates (common.fullname). Call with the chart's
context.
*/}}
{{- define "common.secretName" -}}
{{- .Values.auth.existingSecret | default (include "common.fullname" .) -}}
{{- end -}}
