{{ include "common.backup.mysql.restore" . }}
