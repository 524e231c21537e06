{{/* The labels of mysql's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "mysql.labels" -}}{{ include "common.labels" (dict "context" . "name" "mysql" "component" true) }}{{- end -}}
{{- define "mysql.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "mysql" "component" true) }}{{- end -}}
