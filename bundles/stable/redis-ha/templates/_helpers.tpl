{{/* The labels of redis-ha's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "redis-ha.labels" -}}{{ include "common.labels" (dict "context" . "name" "redis-ha" "component" true) }}{{- end -}}
{{- define "redis-ha.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "redis-ha" "component" true) }}{{- end -}}

{{/* DNS suffix of the pods: POD.HEADLESS */}}
{{- define "redis-ha.headless" -}}
{{- printf "%s-headless.%s.svc" (include "common.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* Every Sentinel, as host:port,host:port,... */}}
{{- define "redis-ha.sentinels" -}}
{{- $out := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $out = append $out (printf "%s-%d.%s:%v" (include "common.fullname" $) $i (include "redis-ha.headless" $) $.Values.sentinel.port) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* Votes needed to declare the master down and fail over: a majority. */}}
{{- define "redis-ha.quorum" -}}
{{- add (div (int .Values.replicas) 2) 1 -}}
{{- end -}}
