{{/* The labels of wordpress's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "wordpress.labels" -}}{{ include "common.labels" (dict "context" . "name" "wordpress" "component" false) }}{{- end -}}
{{- define "wordpress.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "wordpress" "component" false) }}{{- end -}}

{{/*
The database WordPress uses, as handed over by bundle's composition under
.Values.requires.database. Fails with a clear message when installed as a
plain chart without it.
*/}}
{{- define "wordpress.db" -}}
{{- $db := (.Values.requires | default dict).database | default dict -}}
{{- range $k := list "host" "port" "database" "username" "passwordSecret" "passwordKey" -}}
{{- if not (get $db $k) -}}
{{- fail (printf "wordpress needs requires.database.%s: install it with bundle, which wires its database in" $k) -}}
{{- end -}}
{{- end -}}
{{- toJson $db -}}
{{- end -}}
