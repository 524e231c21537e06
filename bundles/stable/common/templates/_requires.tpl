{{/*
The outputs of the chart's requirements, as bundle hands them over under
.Values.requires.INSTANCE, as JSON. Fails with a clear message when one is
missing (the chart installed as a plain chart, say). Call with
(list $ NAME NEED WHAT): NEED maps each INSTANCE to the outputs the chart
uses; the message says NAME needs requires.INSTANCE.OUTPUT, which bundle
wires in as the chart's WHAT.
*/}}
{{- define "common.requires" -}}
{{- $top := index . 0 -}}{{- $name := index . 1 -}}{{- $need := index . 2 -}}{{- $what := index . 3 -}}
{{- $r := $top.Values.requires | default dict -}}
{{- range $inst, $keys := $need -}}
{{- $got := get $r $inst | default dict -}}
{{- range $k := $keys -}}
{{- if not (get $got $k) -}}
{{- fail (printf "%s needs requires.%s.%s: install it with bundle, which wires its %s in" $name $inst $k $what) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $r -}}
{{- end -}}
