{{/* The labels of memcached's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "memcached.labels" -}}{{ include "common.labels" (dict "context" . "name" "memcached" "component" true) }}{{- end -}}
{{- define "memcached.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "memcached" "component" true) }}{{- end -}}
