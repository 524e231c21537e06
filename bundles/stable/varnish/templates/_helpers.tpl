{{/* The labels of varnish's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "varnish.labels" -}}{{ include "common.labels" (dict "context" . "name" "varnish" "component" true) }}{{- end -}}
{{- define "varnish.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "varnish" "component" true) }}{{- end -}}

{{/* The backend's host: a template, so a requiring app can name its own Service. */}}
{{- define "varnish.backendHost" -}}
{{- $host := tpl (.Values.backend.host | default "") . -}}
{{- if not (regexMatch "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^$" $host) -}}
{{- fail (printf "varnish backend.host %q is not a host name (letters, digits, dots and dashes): set it to the Service Varnish sits in front of" $host) -}}
{{- end -}}
{{- $host -}}
{{- end -}}
