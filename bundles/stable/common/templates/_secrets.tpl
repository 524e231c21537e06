{{/*
A secret value, base64-encoded for a Secret's data: the value given, else
the one already under KEY in the release's Secret (common.fullname), so
that upgrades keep it, else LENGTH new random letters and digits. Call with
(list $ KEY GIVEN LENGTH).
*/}}
{{- define "common.secret" -}}
{{- $top := index . 0 -}}{{- $key := index . 1 -}}{{- $given := index . 2 -}}{{- $len := index . 3 -}}
{{- if $given -}}
{{- $given | b64enc -}}
{{- else -}}
{{- $old := lookup "v1" "Secret" $top.Release.Namespace (include "common.fullname" $top) -}}
{{- if and $old $old.data (hasKey $old.data $key) -}}
{{- index $old.data $key -}}
{{- else -}}
{{- randAlphaNum $len | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}
