{{/*
A scratch redis-server, for the backup scripts: it runs on a socket in a
directory of its own (DIR, made with mktemp), loading DIR/dump.rdb, and
is stopped when the script exits. Defines scratch (redis-cli on it).
*/}}
{{- define "redis.backup.scratch" -}}
dir=$(mktemp -d)
stop() { redis-cli -s "$dir/s" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
scratch() { redis-cli -s "$dir/s" "$@"; }
start() {
  redis-server --port 0 --unixsocket "$dir/s" --unixsocketperm 700 --dir "$dir" \
    --dbfilename dump.rdb --save "" --appendonly no --logfile "$dir/log" --daemonize yes
  tries=0
  until [ "$(scratch ping 2>/dev/null)" = PONG ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 100 ]; then
      echo "the dump does not load:" >&2
      cat "$dir/log" >&2
      exit 1
    fi
    sleep 0.1
  done
}
{{- end -}}

{{/*
The dump of the server (bundle.yaml backup: dump): its RDB snapshot, or,
with BACKUP_KEY_PREFIX (one app's claim), one of the keys under that
prefix only, into BACKUP_FILE.
*/}}
{{- define "redis.backup.dump" -}}
#!/bin/sh
# Dumps the server's RDB snapshot into BACKUP_FILE: every key, or only
# those under BACKUP_KEY_PREFIX.
set -eu
{{ include "redis.backup.scratch" . }}
REDISCLI_AUTH=$ADMIN_PASSWORD redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" --rdb "$dir/dump.rdb" >/dev/null
if [ -n "${BACKUP_KEY_PREFIX:-}" ]; then
  # Only the prefix's keys, of database 0 (a claim's only database).
  start
  scratch info keyspace | sed -n 's/^db\([0-9]*\):.*/\1/p' | while read -r n; do
    if [ "$n" != 0 ]; then scratch -n "$n" flushdb >/dev/null; fi
  done
  scratch eval '
local c = "0"
repeat
  local r = redis.call("SCAN", c, "COUNT", 1000)
  c = r[1]
  for _, k in ipairs(r[2]) do
    if string.sub(k, 1, #ARGV[1]) ~= ARGV[1] then redis.call("UNLINK", k) end
  end
until c == "0"' 0 "$BACKUP_KEY_PREFIX" >/dev/null
  scratch save >/dev/null
fi
mv "$dir/dump.rdb" "$BACKUP_FILE"
echo "dumped ${BACKUP_KEY_PREFIX:+the keys under }${BACKUP_KEY_PREFIX:-every key}"
{{- end -}}

{{/*
The restore of a dump of redis.backup.dump (bundle.yaml backup:
restore): the keys as they were at the dump, every key (the server is
flushed first), or, with BACKUP_KEY_PREFIX, the keys under that prefix
only (the others are left as they are). The dump is loaded into a
scratch server, which MIGRATEs its keys to the server.
*/}}
{{- define "redis.backup.restore" -}}
#!/bin/sh
# Restores the keys of BACKUP_FILE as they were at the dump: every key,
# or, with BACKUP_KEY_PREFIX, those under it only.
set -eu
{{ include "redis.backup.scratch" . }}
cp "$BACKUP_FILE" "$dir/dump.rdb"
start
prefix=${BACKUP_KEY_PREFIX:-}
# The server's; the scratch server has no password.
cli() { REDISCLI_AUTH=$ADMIN_PASSWORD redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" "$@"; }
dbs=$(scratch info keyspace | sed -n 's/^db\([0-9]*\):.*/\1/p')
if [ -n "$prefix" ]; then
  for n in $dbs; do
    if [ "$n" != 0 ] || [ "$(scratch eval 'for _, k in ipairs(redis.call("KEYS", "*")) do if string.sub(k, 1, #ARGV[1]) ~= ARGV[1] then return 1 end end return 0' 0 "$prefix")" != 0 ]; then
      echo "the dump holds keys outside $prefix: refused" >&2
      exit 1
    fi
  done
  cli --scan --pattern "$prefix*" | tr '\n' '\0' | REDISCLI_AUTH=$ADMIN_PASSWORD xargs -0 -r -n 100 redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" UNLINK >/dev/null
else
  cli flushall >/dev/null
fi
# Each database's keys, 100 to a MIGRATE of the scratch server: its
# commands written by Lua, every argument quoted as redis-cli reads it.
for n in $dbs; do
  scratch -n "$n" --raw eval '
local function q(s)
  return "\"" .. string.gsub(s, "[^%w_:./-]", function(ch) return string.format("\\x%02x", string.byte(ch)) end) .. "\""
end
local out, keys, c = {}, {}, "0"
local function flush()
  if #keys > 0 then
    out[#out + 1] = "MIGRATE " .. q(ARGV[1]) .. " " .. q(ARGV[2]) .. " \"\" " .. ARGV[3] .. " 60000 COPY REPLACE AUTH2 default " .. q(ARGV[4]) .. " KEYS " .. table.concat(keys, " ")
    keys = {}
  end
end
repeat
  local r = redis.call("SCAN", c, "COUNT", 1000)
  c = r[1]
  for _, k in ipairs(r[2]) do
    keys[#keys + 1] = q(k)
    if #keys == 100 then flush() end
  end
until c == "0"
flush()
return table.concat(out, "\n")' 0 "$DB_HOST" "$DB_PORT" "$n" "$ADMIN_PASSWORD" > "$dir/migrate"
  if scratch -n "$n" < "$dir/migrate" | grep -v '^OK$' >&2; then
    echo "the keys of database $n were not all restored" >&2
    exit 1
  fi
done
echo "restored ${prefix:+the keys under }${prefix:-every key}"
{{- end -}}
