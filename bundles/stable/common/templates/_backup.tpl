{{/*
The backup scripts a data bundle's bundle.yaml names (backup: dump and
restore, docs/bundle-file.md#backup) share: a bundle's backup/dump.sh and
backup/restore.sh include one of these. They run with DB_HOST, DB_PORT,
ADMIN_PASSWORD, BACKUP_FILE and, for one app's claim, BACKUP_DATABASE.
*/}}

{{/*
The dump of a MySQL server (stable/mariadb, stable/mysql): the database
BACKUP_DATABASE, or every database but the server's own, with what
drops and makes each again, into BACKUP_FILE. Call with anything.
*/}}
{{- define "common.backup.mysql.dump" -}}
#!/bin/sh
# Dumps BACKUP_DATABASE, or every database but the server's own, into
# BACKUP_FILE: each dropped and made again on restore.
set -euf
client=$(command -v mariadb || command -v mysql)
dump=$(command -v mariadb-dump || command -v mysqldump)
MYSQL_PWD=$ADMIN_PASSWORD
export MYSQL_PWD
if [ -n "${BACKUP_DATABASE:-}" ]; then
  dbs=$BACKUP_DATABASE
else
  dbs=$("$client" -h "$DB_HOST" -P "$DB_PORT" -u root -N -B -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1")
fi
dbs=$(printf '%s\n' "$dbs" | tr '\n' ' ' | sed 's/ *$//')
if [ -z "$dbs" ]; then
  echo "-- no databases" > "$BACKUP_FILE"
  echo "no databases to dump"
  exit 0
fi
# One word per database (set -f: no globbing).
# shellcheck disable=SC2086
"$dump" -h "$DB_HOST" -P "$DB_PORT" -u root --single-transaction --routines --events --triggers \
  --add-drop-database --databases $dbs > "$BACKUP_FILE.part"
mv "$BACKUP_FILE.part" "$BACKUP_FILE"
echo "dumped: $dbs"
{{- end -}}

{{/*
The restore of a MySQL server's dump made by common.backup.mysql.dump:
the dump's databases as they were, nothing else. With BACKUP_DATABASE
(one app's claim), a dump that holds another database is refused.
Call with anything.
*/}}
{{- define "common.backup.mysql.restore" -}}
#!/bin/sh
# Restores the databases of BACKUP_FILE as they were at the dump; the
# server's other databases are left as they are.
set -euf
client=$(command -v mariadb || command -v mysql)
MYSQL_PWD=$ADMIN_PASSWORD
export MYSQL_PWD
# The backquotes are the dump's, not the shell's.
# shellcheck disable=SC2016
dbs=$(sed -n 's/^CREATE DATABASE [^`]*`\([^`]*\)`.*/\1/p' "$BACKUP_FILE" | tr '\n' ' ' | sed 's/ *$//')
if [ -n "${BACKUP_DATABASE:-}" ] && [ "$dbs" != "$BACKUP_DATABASE" ]; then
  echo "the dump holds $dbs, not only $BACKUP_DATABASE: refused" >&2
  exit 1
fi
"$client" -h "$DB_HOST" -P "$DB_PORT" -u root < "$BACKUP_FILE"
echo "restored: $dbs"
{{- end -}}
