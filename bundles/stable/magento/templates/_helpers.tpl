{{/* The labels of magento's objects: common.labels and common.selectorLabels with this chart's name. */}}
{{- define "magento.labels" -}}{{ include "common.labels" (dict "context" . "name" "magento" "component" false) }}{{- end -}}
{{- define "magento.selectorLabels" -}}{{ include "common.selectorLabels" (dict "context" . "name" "magento" "component" false) }}{{- end -}}

{{/* The Service Varnish forwards to (a fixed name, so the varnish requirement can name it). */}}
{{- define "magento.backendService" -}}
{{- printf "%s-magento-backend" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The infrastructure this shop uses, as handed over by bundle under
.Values.requires.INSTANCE. Fails with a clear message when an output is
missing (installed as a plain chart, say).
*/}}
{{- define "magento.requires" -}}
{{- include "common.requires" (list . "magento" (dict
  "database" (list "host" "port" "database" "username" "passwordSecret" "passwordKey")
  "cache" (list "sentinels" "sentinelMaster" "passwordSecret" "passwordKey")
  "sessions" (list "sentinels" "sentinelMaster" "passwordSecret" "passwordKey")
  "varnish" (list "host" "port" "serviceName")
  "search" (list "host" "port")
) "infrastructure") -}}
{{- end -}}

{{/* Environment of the setup, app and cron containers: the wiring. Call with (list $ $r). */}}
{{- define "magento.env" -}}
{{- $top := index . 0 -}}{{- $r := index . 1 -}}
- name: MAGENTO_ROOT
  value: {{ $top.Values.magento.root | quote }}
- name: DB_HOST
  value: {{ $r.database.host | quote }}
- name: DB_PORT
  value: {{ $r.database.port | quote }}
- name: DB_NAME
  value: {{ $r.database.database | quote }}
- name: DB_USER
  value: {{ $r.database.username | quote }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.database.passwordSecret | quote }}
      key: {{ $r.database.passwordKey | quote }}
- name: SEARCH_HOST
  value: {{ $r.search.host | quote }}
- name: SEARCH_PORT
  value: {{ $r.search.port | quote }}
- name: CACHE_SENTINELS
  value: {{ $r.cache.sentinels | quote }}
- name: CACHE_MASTER
  value: {{ $r.cache.sentinelMaster | quote }}
- name: CACHE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.cache.passwordSecret | quote }}
      key: {{ $r.cache.passwordKey | quote }}
- name: SESSION_SENTINELS
  value: {{ $r.sessions.sentinels | quote }}
- name: SESSION_MASTER
  value: {{ $r.sessions.sentinelMaster | quote }}
- name: SESSION_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.sessions.passwordSecret | quote }}
      key: {{ $r.sessions.passwordKey | quote }}
- name: VARNISH_HOST
  value: {{ $r.varnish.host | quote }}
- name: VARNISH_PORT
  value: {{ $r.varnish.port | quote }}
- name: CRYPT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "common.fullname" $top }}
      key: crypt-key
{{- end -}}

{{/*
Init containers: copy the image's app/etc into the shared volume, then run
setup.sh. Call with (list $ $r MODE); MODE "config" only writes env.php.
*/}}
{{- define "magento.initContainers" -}}
{{- $top := index . 0 -}}{{- $r := index . 1 -}}{{- $mode := index . 2 -}}
- name: seed-etc
  image: "{{ $top.Values.image.repository }}:{{ $top.Values.image.tag }}"
  imagePullPolicy: {{ $top.Values.image.pullPolicy }}
  command: [sh, -c, 'cp -a "{{ $top.Values.magento.root }}/app/etc/." /seed/']
  securityContext:
    {{- toYaml $top.Values.securityContext | nindent 4 }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
  volumeMounts:
    - name: etc
      mountPath: /seed
- name: setup
  image: "{{ $top.Values.image.repository }}:{{ $top.Values.image.tag }}"
  imagePullPolicy: {{ $top.Values.image.pullPolicy }}
  command: [sh, /config/setup.sh{{ with $mode }}, {{ . }}{{ end }}]
  securityContext:
    {{- toYaml $top.Values.securityContext | nindent 4 }}
  env:
    {{- include "magento.env" (list $top $r) | nindent 4 }}
    - name: ADMIN_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "common.fullname" $top }}
          key: admin-password
  resources:
    {{- toYaml $top.Values.resources | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /config
    {{- include "magento.mounts" $top | nindent 4 }}
{{- end -}}

{{- define "magento.mounts" -}}
- name: etc
  mountPath: {{ .Values.magento.root }}/app/etc
- name: media
  mountPath: {{ .Values.magento.root }}/pub/media
- name: var
  mountPath: {{ .Values.magento.root }}/var
{{- end -}}

{{- define "magento.volumes" -}}
- name: config
  configMap:
    name: {{ include "common.fullname" . }}
- name: etc
  emptyDir: {}
- name: var
  emptyDir: {}
- name: media
  {{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "common.fullname" . }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end -}}
