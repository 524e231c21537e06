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

{{/*
Checks, before a chart generates the values its data is initialised with
and depends on afterwards (a database's passwords, which its server reads
at its first start only), that none would be new on old data: when one
is not given and not in the release's Secret (common.fullname) while a
claim that holds the chart's data is there (kept from an earlier install,
or its Secret deleted by hand), it fails in one line naming the claims,
the values and the ways out, instead of starting the server with a
password its data does not know. Renders nothing. Call with
(list $ CLAIMS VALUES): CLAIMS the names of the PersistentVolumeClaims
that hold the data (a StatefulSet's are TEMPLATE-STATEFULSET-ORDINAL),
VALUES a list of (list KEY GIVEN PATH): the Secret's KEY, the value given,
and PATH, where in the chart's values it is given (auth.rootPassword).
The Secret is labelled bundle.sh/kept-with-data: "true", so that it lives
as long as the data: bundle uninstall keeps it with the claims and
--delete-data deletes it after them.
*/}}
{{- define "common.checkKeptData" -}}
{{- $top := index . 0 -}}{{- $claims := index . 1 -}}{{- $values := index . 2 -}}
{{- $name := include "common.fullname" $top -}}
{{- $ns := $top.Release.Namespace -}}
{{- $old := dict -}}
{{- $missing := list -}}{{- $paths := list -}}
{{- range $v := $values -}}
{{- if not (index $v 1) -}}
{{- if not $old }}{{ $old = lookup "v1" "Secret" $ns $name | default (dict "looked" true) }}{{ end -}}
{{- if not (and $old.data (hasKey $old.data (index $v 0))) -}}
{{- $missing = append $missing (index $v 0) -}}{{- $paths = append $paths (index $v 2) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $missing -}}
{{- $kept := list -}}
{{- range $claims -}}
{{- $pvc := lookup "v1" "PersistentVolumeClaim" $ns . -}}
{{- if and $pvc (not $pvc.metadata.deletionTimestamp) }}{{ $kept = append $kept . }}{{ end -}}
{{- end -}}
{{- if $kept -}}
{{- $prefix := "" -}}
{{- range (regexFindAll "/charts/[^/]+" $top.Template.BasePath -1) }}{{ $prefix = printf "%s%s." $prefix (trimPrefix "/charts/" .) }}{{ end -}}
{{- $sets := list -}}
{{- range $paths }}{{ $sets = append $sets (printf "%s%s=..." $prefix .) }}{{ end -}}
{{- $what := printf "claim %s" (index $kept 0) -}}
{{- if gt (len $kept) 1 }}{{ $what = printf "claims %s" (join ", " $kept) }}{{ end -}}
{{- $out := printf "kubectl delete pvc -n %s %s" $ns (join " " $kept) -}}
{{- if $top.Release.IsInstall }}{{ $what = printf "%s, kept from an earlier install," $what }}{{ else }}{{ $out = printf "bundle uninstall %s -n %s --delete-data, then install" $top.Release.Name $ns }}{{ end -}}
{{- $one := eq (len $missing) 1 -}}
{{- fail (printf "%s %s data initialised with %s, which Secret %s no longer holds: give the old %s (--set %s), or delete the data to start afresh (%s)" $what (ternary "holds" "hold" (eq (len $kept) 1)) (join " and " $missing) $name (ternary "one" "ones" $one) (join "," $sets) $out) -}}
{{- end -}}
{{- end -}}
{{- end -}}
