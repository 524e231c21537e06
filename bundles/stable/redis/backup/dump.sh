{{ include "redis.backup.dump" . }}
