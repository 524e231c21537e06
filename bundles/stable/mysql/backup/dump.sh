{{ include "common.backup.mysql.dump" . }}
