{{ include "postgresql.backup.dump" . }}
