{{/* The labels of wordpress's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "wordpress.labels" -}}{{ include "common.labels" (dict "context" . "name" "wordpress" "component" false) }}{{- end -}}
{{- define "wordpress.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "wordpress" "component" false) }}{{- end -}}

{{/*
The database WordPress uses, as handed over by bundle's composition under
.Values.requires.database. Fails with a clear message when installed as a
plain chart without it.
*/}}
{{- define "wordpress.db" -}}
{{- $r := include "common.requires" (list . "wordpress" (dict "database" (list "host" "port" "database" "username" "passwordSecret" "passwordKey")) "database") | fromJson -}}
{{- toJson $r.database -}}
{{- end -}}
