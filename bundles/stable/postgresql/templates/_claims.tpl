{{/*
The scripts of the claims this chart gives each app bound to it
(claims/configmap.yaml renders them with the helpers of common's
_claims.tpl). Call with anything.
*/}}
{{- define "postgresql.claim" -}}
#!/bin/sh
# Makes the claim's role and database on the provider's server:
# the role owns its database, and no other role (PUBLIC) may
# connect to it. Safe to run again: it only sets the password
# anew.
set -eu
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$ADMIN_PASSWORD
export PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
tries=0
until pg_isready -q -t 5; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "the server at $DB_HOST:$DB_PORT does not answer" >&2
    exit 1
  fi
  sleep 2
done
psql -X -q -v ON_ERROR_STOP=1 -v user="$CLAIM_USER" -v db="$CLAIM_DATABASE" -v pw="$CLAIM_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT ALL ON DATABASE :"db" TO :"user";
SQL
echo "claim $CLAIM_USER: database $CLAIM_DATABASE ready"
{{- end -}}

{{- define "postgresql.unclaim" -}}
#!/bin/sh
# Drops the claim's role, and its database when DELETE_DATA is
# true; kept, the database and what the role owned in it pass to
# postgres. A provider that is gone (uninstalled with --force)
# has nothing left to drop: it says so and succeeds.
set -eu
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  echo "the provider's Secret is gone: nothing to drop" >&2
  exit 0
fi
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$ADMIN_PASSWORD PGCONNECT_TIMEOUT=10
export PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGCONNECT_TIMEOUT
if ! psql -X -q -c 'SELECT 1' >/dev/null; then
  echo "the server at $DB_HOST:$DB_PORT does not answer: role $CLAIM_USER not dropped" >&2
  exit 0
fi
sql() { psql -X -q -v ON_ERROR_STOP=1 -v user="$CLAIM_USER" -v db="$CLAIM_DATABASE" "$@"; }
db_exists=$(sql -At -c "SELECT 1 FROM pg_database WHERE datname = '$CLAIM_DATABASE'")
role_exists=$(sql -At -c "SELECT 1 FROM pg_roles WHERE rolname = '$CLAIM_USER'")
if [ "${DELETE_DATA:-false}" = true ]; then
  [ -z "$db_exists" ] || sql <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SQL
elif [ -n "$db_exists" ] && [ -n "$role_exists" ]; then
  # Everything the role owns in its database (and the database)
  # passes to postgres; its connections end.
  sql -d "$CLAIM_DATABASE" <<'SQL'
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :'user' AND pid <> pg_backend_pid();
REASSIGN OWNED BY :"user" TO postgres;
DROP OWNED BY :"user";
SQL
fi
[ -z "$role_exists" ] || sql <<'SQL'
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :'user';
DROP OWNED BY :"user";
DROP ROLE IF EXISTS :"user";
SQL
if [ "${DELETE_DATA:-false}" = true ]; then
  echo "claim $CLAIM_USER: role and database $CLAIM_DATABASE dropped"
else
  echo "claim $CLAIM_USER: role dropped, database $CLAIM_DATABASE kept"
fi
{{- end -}}
