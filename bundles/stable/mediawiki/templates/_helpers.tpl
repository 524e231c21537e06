{{- define "mediawiki.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mediawiki.selectorLabels" -}}
app.kubernetes.io/name: mediawiki
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mediawiki.labels" -}}
{{ include "mediawiki.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "mediawiki-%s" .Chart.Version }}
{{- end -}}

{{/*
The database this wiki uses, as handed over by bundle's composition under
.Values.requires.database. Fails with a clear message when installed as a
plain chart without it.
*/}}
{{- define "mediawiki.db" -}}
{{- $db := (.Values.requires | default dict).database | default dict -}}
{{- range $k := list "host" "port" "database" "username" "passwordSecret" "passwordKey" -}}
{{- if not (get $db $k) -}}
{{- fail (printf "mediawiki needs requires.database.%s: install it with bundle, which wires its database in" $k) -}}
{{- end -}}
{{- end -}}
{{- toJson $db -}}
{{- end -}}

{{/* A secret value: given, else kept from the Secret, else random. */}}
{{- define "mediawiki.secret" -}}
{{- $top := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}{{- $len := index . 3 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $old := lookup "v1" "Secret" $top.Release.Namespace (include "mediawiki.fullname" $top) -}}
{{- if and $old $old.data (hasKey $old.data $key) -}}
{{- index $old.data $key -}}
{{- else -}}
{{- randAlphaNum $len | b64enc -}}
{{- end -}}
{{- end -}}
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
      name: {{ include "mediawiki.fullname" $top }}
      key: secret-key
- name: MEDIAWIKI_UPGRADE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mediawiki.fullname" $top }}
      key: upgrade-key
- name: MEDIAWIKI_ADMIN_USER
  value: {{ $top.Values.wiki.admin.username | quote }}
- name: MEDIAWIKI_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "mediawiki.fullname" $top }}
      key: admin-password
{{- end -}}

{{/* The value as a PHP single-quoted string literal (quotes and backslashes escaped). */}}
{{- define "mediawiki.php" -}}
'{{ . | toString | replace "\\" "\\\\" | replace "'" "\\'" }}'
{{- end -}}
