{{/* The labels of postgresql's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "postgresql.labels" -}}{{ include "common.labels" (dict "context" . "name" "postgresql" "component" true) }}{{- end -}}
{{- define "postgresql.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "postgresql" "component" true) }}{{- end -}}
