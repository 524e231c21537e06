{{/* The labels of opensearch's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "opensearch.labels" -}}{{ include "common.labels" (dict "context" . "name" "opensearch" "component" true) }}{{- end -}}
{{- define "opensearch.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "opensearch" "component" true) }}{{- end -}}

{{/* Nodes eligible as cluster manager at bootstrap: every pod. */}}
{{- define "opensearch.initialManagers" -}}
{{- $out := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $out = append $out (printf "%s-%d" (include "common.fullname" $) $i) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}
