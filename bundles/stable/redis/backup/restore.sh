{{ include "redis.backup.restore" . }}
