{{/* The value as one single-quoted shell word (any character survives). */}}
{{- define "common.shellQuote" -}}
'{{ . | toString | replace "'" "'\\''" }}'
{{- end -}}

{{/* The value as a PHP single-quoted string literal (quotes and backslashes escaped). */}}
{{- define "common.phpQuote" -}}
'{{ . | toString | replace "\\" "\\\\" | replace "'" "\\'" }}'
{{- end -}}
