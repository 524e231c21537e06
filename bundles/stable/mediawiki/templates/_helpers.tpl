{{/* The labels of mediawiki's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "mediawiki.labels" -}}{{ include "common.labels" (dict "context" . "name" "mediawiki" "component" false) }}{{- end -}}
{{- define "mediawiki.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "mediawiki" "component" false) }}{{- end -}}

{{/*
The database this wiki uses, as handed over by bundle's composition under
.Values.requires.database. Fails with a clear message when installed as a
plain chart without it.
*/}}
{{- define "mediawiki.db" -}}
{{- $r := include "common.requires" (list . "mediawiki" (dict "database" (list "host" "port" "database" "username" "passwordSecret" "passwordKey")) "database") | fromJson -}}
{{- toJson $r.database -}}
{{- end -}}

{{/* Environment of the setup and app containers. Call with (list $ $db). */}}
{{- define "mediawiki.env" -}}
{{- $top := index . 0 -}}{{- $db := index . 1 -}}
- name: MEDIAWIKI_DB_HOST
  value: {{ $db.host | quote }}
- name: MEDIAWIKI_DB_PORT
  value: {{ $db.port | quote }}
- name: MEDIAWIKI_DB_NAME
  value: {{ $db.database | quote }}
- name: MEDIAWIKI_DB_USER
  value: {{ $db.username | quote }}
- name: MEDIAWIKI_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.passwordSecret | quote }}
      key: {{ $db.passwordKey | quote }}
- name: MEDIAWIKI_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "common.fullname" $top }}
      key: secret-key
- name: MEDIAWIKI_UPGRADE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "common.fullname" $top }}
      key: upgrade-key
- name: MEDIAWIKI_ADMIN_USER
  value: {{ $top.Values.wiki.admin.username | quote }}
- name: MEDIAWIKI_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "common.fullname" $top }}
      key: admin-password
{{- end -}}
