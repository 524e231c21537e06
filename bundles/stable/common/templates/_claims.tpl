{{/*
The claim machinery: the objects a provider's claim templates make for
each app bound to it (bundle.yaml claims:, docs/bindings.md), rendered in
the app's release with the app's identity under .Values.claim. A
provider's claims/ templates call these with their own context (.), and
the provider gives only what is its own: its scripts, the key of its
administrator's password, and its image (.Values.image of its
values.yaml).
*/}}

{{/*
Labels that select a claim's pods: app.kubernetes.io/name PROVIDER-claim,
instance (the app's release) and component (the app's instance name).
Call with the claim template's context.
*/}}
{{- define "common.claim.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.claim.provider.bundle }}-claim
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: {{ .Values.claim.instance | quote }}
{{- end -}}

{{/*
Every label of a claim's objects: the selector labels and managed-by.
Call with the claim template's context.
*/}}
{{- define "common.claim.labels" -}}
{{ include "common.claim.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The claim's Secret: its password, kept from the app's Secret, else from
the copy the Jobs read, else new. An app of another namespace than the
provider's gets a copy in the provider's namespace too (named jobName),
for the Jobs. Call with the claim template's context.
*/}}
{{- define "common.claim.secret" -}}
{{- $c := .Values.claim -}}
{{- /* The password: the app's Secret's, else the copy's, else new. */ -}}
{{- $old := lookup "v1" "Secret" .Release.Namespace $c.name -}}
{{- if not (and $old $old.data (hasKey $old.data "password")) }}{{ $old = lookup "v1" "Secret" $c.jobNamespace $c.jobName }}{{ end -}}
{{- $pw := "" -}}
{{- if and $old $old.data (hasKey $old.data "password") }}{{ $pw = index $old.data "password" }}{{ else }}{{ $pw = randAlphaNum 24 | b64enc }}{{ end -}}
{{- /* The app's, and, for an app of another namespace, a copy for the Jobs. */ -}}
{{- range $ns := uniq (list .Release.Namespace $c.jobNamespace) }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ ternary $c.name $c.jobName (eq $ns $.Release.Namespace) }}
  namespace: {{ $ns }}
  labels:
    {{- include "common.claim.labels" $ | nindent 4 }}
type: Opaque
data:
  password: {{ $pw | quote }}
{{- end }}
{{- end -}}

{{/*
The claim's ConfigMap, in the provider's namespace: the scripts its Jobs
run, and delete-data, which bundle uninstall --delete-data sets to
"true". Call with (dict "context" $ "scripts" SCRIPTS "deleted" WHAT):
SCRIPTS a dict of file name (claim.sh, which makes the claim; unclaim.sh,
which drops it) to script, WHAT says what --delete-data deletes (its
lines are the comment's).
*/}}
{{- define "common.claim.configmap" -}}
{{- $top := .context -}}
{{- $c := $top.Values.claim -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $c.jobName }}-claim
  namespace: {{ $c.jobNamespace }}
  labels:
    {{- include "common.claim.labels" $top | nindent 4 }}
    bundle.sh/claim-of: {{ $top.Release.Name | quote }}
    bundle.sh/claim-namespace: {{ $top.Release.Namespace | quote }}
data:
  # bundle uninstall --delete-data sets it to "true": {{ .deleted | replace "\n" "\n  # " }}
  delete-data: "false"
  {{- range $name, $script := .scripts }}
  {{ $name }}: |
    {{- $script | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
The claim's Jobs, in the provider's namespace: one that runs claim.sh
(named after what it runs against: a new provider, a new Job), and the
pre-delete hook that runs unclaim.sh. Both run the provider's image
(.Values.image.repository and tag), with DB_HOST and DB_PORT (the
provider's outputs host and port), CLAIM_USER (the claim's id), ENV,
and ADMIN_PASSWORD from the provider's Secret (its output
passwordSecret); the first with CLAIM_PASSWORD from the claim's Secret,
the hook with DELETE_DATA from the claim's ConfigMap. Call with
(dict "context" $ "adminKey" KEY "env" ENV): KEY the key of the
administrator's password in the provider's Secret, ENV a dict of the
variables that say what the claim is of (default CLAIM_DATABASE, the
claim's id).
*/}}
{{- define "common.claim.jobs" -}}
{{- $top := .context -}}
{{- $c := $top.Values.claim -}}
{{- $p := $c.provider.outputs -}}
{{- $env := .env | default (dict "CLAIM_DATABASE" $c.id) -}}
{{- $adminKey := .adminKey -}}
{{- range $hook := list "" "pre-delete" }}
---
apiVersion: batch/v1
kind: Job
metadata:
  namespace: {{ $c.jobNamespace }}
  {{- if $hook }}
  name: {{ $c.jobName }}-unclaim
  annotations:
    helm.sh/hook: pre-delete
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
  {{- else }}
  # Named after what it runs against: a new provider, a new Job.
  name: {{ $c.jobName }}-claim-{{ toJson $c | sha256sum | trunc 8 }}
  {{- end }}
  labels:
    {{- include "common.claim.labels" $top | nindent 4 }}
spec:
  backoffLimit: 6
  activeDeadlineSeconds: 600
  template:
    metadata:
      labels:
        {{- include "common.claim.selectorLabels" $top | nindent 8 }}
    spec:
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        runAsGroup: 999
      containers:
        - name: {{ ternary "unclaim" "claim" (ne $hook "") }}
          image: {{ printf "%s:%s" $top.Values.image.repository $top.Values.image.tag | quote }}
          imagePullPolicy: IfNotPresent
          command: ["sh", "/claim/{{ ternary "unclaim" "claim" (ne $hook "") }}.sh"]
          env:
            - name: DB_HOST
              value: {{ $p.host | quote }}
            - name: DB_PORT
              value: {{ $p.port | quote }}
            {{- range $name, $value := $env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
            - name: CLAIM_USER
              value: {{ $c.id | quote }}
            {{- if not $hook }}
            - name: CLAIM_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ $c.jobName }}
                  key: password
            {{- else }}
            - name: DELETE_DATA
              valueFrom:
                configMapKeyRef:
                  name: {{ $c.jobName }}-claim
                  key: delete-data
                  optional: true
            {{- end }}
            - name: ADMIN_PASSWORD
              valueFrom:
                secretKeyRef:
                  # The provider's: the Jobs run in its namespace.
                  name: {{ $p.passwordSecret }}
                  key: {{ $adminKey }}
                  {{- if $hook }}
                  optional: true
                  {{- end }}
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              memory: 128Mi
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: claim
              mountPath: /claim
      volumes:
        - name: claim
          configMap:
            name: {{ $c.jobName }}-claim
{{- end }}
{{- end -}}

{{/*
The script of a claim on a MySQL server (stable/mariadb, stable/mysql):
it makes the claim's database and user. Call with anything.
*/}}
{{- define "common.claim.mysql.claim" -}}
#!/bin/sh
# Makes the claim's database and user on the provider's server,
# with every right on that database and none elsewhere. Safe to
# run again: it only sets the password anew.
set -eu
client=$(command -v mariadb || command -v mysql)
MYSQL_PWD=$ADMIN_PASSWORD
export MYSQL_PWD
tries=0
until "$client" -h "$DB_HOST" -P "$DB_PORT" -u root -e 'SELECT 1' >/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "the server at $DB_HOST:$DB_PORT does not answer" >&2
    exit 1
  fi
  sleep 2
done
pw=$(printf '%s' "$CLAIM_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")
"$client" -h "$DB_HOST" -P "$DB_PORT" -u root <<SQL
CREATE DATABASE IF NOT EXISTS \`$CLAIM_DATABASE\`;
CREATE USER IF NOT EXISTS '$CLAIM_USER'@'%' IDENTIFIED BY '$pw';
ALTER USER '$CLAIM_USER'@'%' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`$CLAIM_DATABASE\`.* TO '$CLAIM_USER'@'%';
SQL
echo "claim $CLAIM_USER: database $CLAIM_DATABASE ready"
{{- end -}}

{{/*
The script that drops a claim on a MySQL server: its user, and its
database with --delete-data. Call with anything.
*/}}
{{- define "common.claim.mysql.unclaim" -}}
#!/bin/sh
# Drops the claim's user, and its database when DELETE_DATA is
# true. A provider that is gone (uninstalled with --force) has
# nothing left to drop: it says so and succeeds.
set -eu
client=$(command -v mariadb || command -v mysql)
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  echo "the provider's Secret is gone: nothing to drop" >&2
  exit 0
fi
MYSQL_PWD=$ADMIN_PASSWORD
export MYSQL_PWD
if ! "$client" -h "$DB_HOST" -P "$DB_PORT" -u root --connect-timeout=10 -e 'SELECT 1' >/dev/null; then
  echo "the server at $DB_HOST:$DB_PORT does not answer: user $CLAIM_USER not dropped" >&2
  exit 0
fi
"$client" -h "$DB_HOST" -P "$DB_PORT" -u root -e "DROP USER IF EXISTS '$CLAIM_USER'@'%'"
if [ "${DELETE_DATA:-false}" = true ]; then
  "$client" -h "$DB_HOST" -P "$DB_PORT" -u root -e "DROP DATABASE IF EXISTS \`$CLAIM_DATABASE\`"
  echo "claim $CLAIM_USER: user and database $CLAIM_DATABASE dropped"
else
  echo "claim $CLAIM_USER: user dropped, database $CLAIM_DATABASE kept"
fi
{{- end -}}
