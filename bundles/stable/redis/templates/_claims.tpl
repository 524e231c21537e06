{{/*
The scripts of the claims this chart gives each app bound to it
(claims/configmap.yaml renders them with the helpers of common's
_claims.tpl). Call with anything.
*/}}
{{- define "redis.claim" -}}
#!/bin/sh
# Makes the claim's ACL user on the provider's server: its
# password, keys and Pub/Sub channels under its prefix only, every
# command but the dangerous ones (KEYS, FLUSHALL, CONFIG, ...) and
# SELECT/MOVE (database 0 only). Safe to run again: it sets the
# user anew. Saved to the server's aclfile (stable/redis has one),
# so the user survives the server's restarts.
set -eu
export REDISCLI_AUTH="$ADMIN_PASSWORD"
cli() { redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" "$@"; }
tries=0
until [ "$(cli ping 2>/dev/null)" = PONG ]; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "the server at $DB_HOST:$DB_PORT does not answer" >&2
    exit 1
  fi
  sleep 2
done
ok=$(cli ACL SETUSER "$CLAIM_USER" reset on ">$CLAIM_PASSWORD" "~$CLAIM_PREFIX*" "&$CLAIM_PREFIX*" +@all -@dangerous -select -move)
[ "$ok" = OK ] || { echo "ACL SETUSER $CLAIM_USER: $ok" >&2; exit 1; }
if [ -n "$(cli CONFIG GET aclfile | sed -n 2p)" ]; then
  ok=$(cli ACL SAVE)
  [ "$ok" = OK ] || { echo "ACL SAVE: $ok" >&2; exit 1; }
else
  echo "the server has no aclfile: user $CLAIM_USER lasts until it restarts" >&2
fi
echo "claim $CLAIM_USER: keys $CLAIM_PREFIX* ready"
{{- end -}}

{{- define "redis.unclaim" -}}
#!/bin/sh
# Drops the claim's ACL user (its connections end), and the keys
# under its prefix when DELETE_DATA is true (SCAN and UNLINK, in
# database 0, the only one it may use). A provider that is gone
# (uninstalled with --force) has nothing left to drop: it says so
# and succeeds.
set -eu
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  echo "the provider's Secret is gone: nothing to drop" >&2
  exit 0
fi
export REDISCLI_AUTH="$ADMIN_PASSWORD"
cli() { redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" "$@"; }
if [ "$(cli ping 2>/dev/null)" != PONG ]; then
  echo "the server at $DB_HOST:$DB_PORT does not answer: user $CLAIM_USER not dropped" >&2
  exit 0
fi
cli ACL DELUSER "$CLAIM_USER" >/dev/null
if [ -n "$(cli CONFIG GET aclfile | sed -n 2p)" ]; then
  ok=$(cli ACL SAVE)
  [ "$ok" = OK ] || { echo "ACL SAVE: $ok" >&2; exit 1; }
fi
if [ "${DELETE_DATA:-false}" = true ]; then
  cli --scan --pattern "$CLAIM_PREFIX*" | tr '\n' '\0' | xargs -0 -r -n 100 redis-cli --no-auth-warning -h "$DB_HOST" -p "$DB_PORT" UNLINK >/dev/null
  echo "claim $CLAIM_USER: user and keys $CLAIM_PREFIX* dropped"
else
  echo "claim $CLAIM_USER: user dropped, keys $CLAIM_PREFIX* kept"
fi
{{- end -}}
