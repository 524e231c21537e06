{{ include "postgresql.backup.restore" . }}
