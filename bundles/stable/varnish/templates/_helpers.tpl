{{- define "varnish.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "varnish.selectorLabels" -}}
app.kubernetes.io/name: varnish
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end -}}

{{- define "varnish.labels" -}}
{{ include "varnish.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "varnish-%s" .Chart.Version }}
{{- end -}}

{{/* The backend's host: a template, so a requiring app can name its own Service. */}}
{{- define "varnish.backendHost" -}}
{{- $host := tpl (.Values.backend.host | default "") . -}}
{{- if not (regexMatch "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^$" $host) -}}
{{- fail (printf "varnish backend.host %q is not a host name (letters, digits, dots and dashes): set it to the Service Varnish sits in front of" $host) -}}
{{- end -}}
{{- $host -}}
{{- end -}}
