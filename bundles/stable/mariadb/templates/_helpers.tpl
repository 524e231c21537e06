{{/* The labels of mariadb's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "mariadb.labels" -}}{{ include "common.labels" (dict "context" . "name" "mariadb" "component" true) }}{{- end -}}
{{- define "mariadb.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "mariadb" "component" true) }}{{- end -}}
