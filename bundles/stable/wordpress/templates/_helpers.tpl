{{- define "wordpress.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wordpress.selectorLabels" -}}
app.kubernetes.io/name: wordpress
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wordpress.labels" -}}
{{ include "wordpress.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "wordpress-%s" .Chart.Version }}
{{- end -}}

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

{{/* A secret value: given, else kept from the Secret, else random. */}}
{{- define "wordpress.secret" -}}
{{- $top := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}{{- $len := index . 3 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $old := lookup "v1" "Secret" $top.Release.Namespace (include "wordpress.fullname" $top) -}}
{{- if and $old $old.data (hasKey $old.data $key) -}}
{{- index $old.data $key -}}
{{- else -}}
{{- randAlphaNum $len | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The value as a PHP single-quoted string literal (quotes and backslashes escaped). */}}
{{- define "wordpress.php" -}}
'{{ . | toString | replace "\\" "\\\\" | replace "'" "\\'" }}'
{{- end -}}
