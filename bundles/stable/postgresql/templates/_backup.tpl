{{/*
The dump of the server (bundle.yaml backup: dump): the database
BACKUP_DATABASE, or every database but postgres and the templates, each
with what drops and makes it again, into BACKUP_FILE, whose first line
names them.
*/}}
{{- define "postgresql.backup.dump" -}}
#!/bin/sh
# Dumps BACKUP_DATABASE, or every database but postgres, into
# BACKUP_FILE: each dropped and made again on restore.
set -euf
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$ADMIN_PASSWORD
export PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
if [ -n "${BACKUP_DATABASE:-}" ]; then
  dbs=$BACKUP_DATABASE
else
  dbs=$(psql -X -tA -v ON_ERROR_STOP=1 -c "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1")
fi
dbs=$(printf '%s\n' "$dbs" | tr '\n' ' ' | sed 's/ *$//')
{
  echo "-- databases: $dbs"
  for db in $dbs; do
    pg_dump --clean --if-exists --create -d "$db"
  done
} > "$BACKUP_FILE.part"
mv "$BACKUP_FILE.part" "$BACKUP_FILE"
echo "dumped: $dbs"
{{- end -}}

{{/*
The restore of a dump of postgresql.backup.dump (bundle.yaml backup:
restore): the dump's databases as they were, their sessions ended,
nothing else. With BACKUP_DATABASE (one app's claim), a dump that holds
another database is refused.
*/}}
{{- define "postgresql.backup.restore" -}}
#!/bin/sh
# Restores the databases of BACKUP_FILE as they were at the dump; the
# server's other databases are left as they are.
set -euf
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$ADMIN_PASSWORD
export PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
dbs=$(sed -n '1s/^-- databases: *//p' "$BACKUP_FILE")
if [ -n "${BACKUP_DATABASE:-}" ] && [ "$dbs" != "$BACKUP_DATABASE" ]; then
  echo "the dump holds $dbs, not only $BACKUP_DATABASE: refused" >&2
  exit 1
fi
for db in $dbs; do
  # Its sessions end with it: the dump makes it again.
  psql -X -q -v ON_ERROR_STOP=1 -v db="$db" <<'SQL'
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db') \gexec
SQL
done
psql -X -q -v ON_ERROR_STOP=1 -f "$BACKUP_FILE" >/dev/null
echo "restored: $dbs"
{{- end -}}
