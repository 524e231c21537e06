{{/* The labels of redis's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "redis.labels" -}}{{ include "common.labels" (dict "context" . "name" "redis" "component" true) }}{{- end -}}
{{- define "redis.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "redis" "component" true) }}{{- end -}}
