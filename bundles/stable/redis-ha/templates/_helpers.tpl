{{/* Name of the release's Redis objects. */}}
{{- define "redis-ha.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "redis-ha.selectorLabels" -}}
app.kubernetes.io/name: redis-ha
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end -}}

{{- define "redis-ha.labels" -}}
{{ include "redis-ha.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "redis-ha-%s" .Chart.Version }}
{{- end -}}

{{/* Secret holding the passwords. */}}
{{- define "redis-ha.secretName" -}}
{{- .Values.auth.existingSecret | default (include "redis-ha.fullname" .) -}}
{{- end -}}

{{/*
A password: the value given, else the one already in the release's Secret
(so upgrades keep it), else a new random one. Call with (list $ "key" value).
*/}}
{{- define "redis-ha.password" -}}
{{- $top := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $old := lookup "v1" "Secret" $top.Release.Namespace (include "redis-ha.fullname" $top) -}}
{{- if and $old $old.data (hasKey $old.data $key) -}}
{{- index $old.data $key -}}
{{- else -}}
{{- randAlphaNum 24 | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* DNS suffix of the pods: POD.HEADLESS */}}
{{- define "redis-ha.headless" -}}
{{- printf "%s-headless.%s.svc" (include "redis-ha.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* Every Sentinel, as host:port,host:port,... */}}
{{- define "redis-ha.sentinels" -}}
{{- $out := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $out = append $out (printf "%s-%d.%s:%v" (include "redis-ha.fullname" $) $i (include "redis-ha.headless" $) $.Values.sentinel.port) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* Votes needed to declare the master down and fail over: a majority. */}}
{{- define "redis-ha.quorum" -}}
{{- add (div (int .Values.replicas) 2) 1 -}}
{{- end -}}
