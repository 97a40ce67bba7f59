#!/usr/bin/env bash
# Throwaway PostgreSQL cluster on 127.0.0.1:55432 (TCP only, no unix socket), run as the OS
# user "postgres" (it refuses root). Superuser postgres/pgadminpass; role app/apppass with
# CREATEDB (tests may create their own databases), database authdb owned by app.
# fsync/full_page_writes/synchronous_commit are off: for tests only.
#
# Usage: postgres.sh up|stop|health
#
# Pitfalls:
#  * every parent of the data dir must be traversable by user postgres (not under /root).
#  * the default socket dir /var/run/postgresql may not exist without the system cluster, and
#    long state-dir paths overflow the 107-byte socket path limit: unix sockets are disabled.
set -euo pipefail
TS_NAME=postgres
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

D=$PG_DIR
DATA=$D/data
PIDFILE=$DATA/postmaster.pid
LOGFILE=$D/postgres.log
KEY=$(files_key "$0" "$TS_DIR/lib.sh")
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
[[ -n $PGBIN && -x $PGBIN/initdb ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql (run install-packages.sh)"
ADMIN_URL="postgres://postgres:$PG_ADMIN_PW@127.0.0.1:$PG_PORT/postgres"
APP_URL="postgres://$PG_APP_USER:$PG_APP_PW@127.0.0.1:$PG_PORT/$PG_DB"

as_pg() { runuser -u postgres -- "$@"; }

# 55432 lies inside Linux's ephemeral port range (32768-60999). Any short outgoing loopback
# connection (ldapsearch, a test's HTTP client...) may get local port 55432; its TIME-WAIT then
# makes postgres' bind fail with "Address already in use" for 60 s (seen twice in a row while
# the other servers were being probed). Reserving the port in the kernel (runtime only, this
# network namespace, gone at reboot; nothing in /etc) stops it being handed out as an ephemeral
# port. Skipped when /proc/sys is read-only or PORTCULLIS_TEST_RESERVE_PORT=0.
reserve_port() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports
  [[ ${PORTCULLIS_TEST_RESERVE_PORT:-1} != 0 && -w $f ]] || return 0
  local cur r lo hi; cur=$(cat "$f")
  IFS=, read -ra ranges <<<"$cur"
  for r in "${ranges[@]}"; do
    lo=${r%-*}; hi=${r#*-}
    ((lo <= PG_PORT && PG_PORT <= hi)) && return 0
  done
  if echo "${cur:+$cur,}$PG_PORT" > "$f" 2>/dev/null; then
    log "reserved port $PG_PORT in net.ipv4.ip_local_reserved_ports (was '${cur}')"
  fi
}

health() {
  pid_alive "$(pid_from_file "$PIDFILE")" postgres || return 1
  psql "$APP_URL" -XAtqc 'select 1' >/dev/null 2>&1
}

clean_up() {
  stop_pid "$PIDFILE" postgres INT 0 15   # SIGINT = fast shutdown
  kill_orphans "$D"
  rm -rf "$D"; mkdir -p "$D"; chown postgres:postgres "$D"
  runuser -u postgres -- test -x "$D" \
    || die "user postgres cannot reach $D (a parent directory is not traversable); set PORTCULLIS_TEST_ENV_DIR elsewhere"
  require_ports_free postgres "$PG_PORT"
  printf '%s\n' "$PG_ADMIN_PW" > "$D/pwfile"; chown postgres "$D/pwfile"; chmod 600 "$D/pwfile"
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --pwfile="$D/pwfile" -A scram-sha-256 -E UTF8 \
    --no-locale --no-sync >"$D/initdb.log" 2>&1 || die "initdb failed" "$D/initdb.log"
  rm -f "$D/pwfile"
  cat >> "$DATA/postgresql.conf" <<EOF
# --- scripts/test-servers/postgres.sh ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
EOF
  touch "$LOGFILE"; chown postgres "$LOGFILE"
  reserve_port
  # A TIME-WAIT left by an earlier outgoing connection from 127.0.0.1:55432 still blocks the
  # bind for up to 60 s ("Address already in use", even with SO_REUSEADDR): keep retrying.
  local deadline=$((SECONDS + 70)) attempt=0
  while :; do
    attempt=$((attempt + 1))
    # setsid: own session, so a Ctrl-C in the calling terminal does not reach the postmaster
    if as_pg setsid "$PGBIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 30 start >>"$D/initdb.log" 2>&1; then
      break
    fi
    if ((SECONDS < deadline)) && tail -n 20 "$LOGFILE" | grep -q 'Address already in use'; then
      ((attempt % 10 == 1)) && log "127.0.0.1:$PG_PORT still held by a TIME-WAIT socket ($(ss -Htan "sport = :$PG_PORT" 2>/dev/null | head -1 | tr -s ' ')); retrying for up to 70 s"
      sleep 1; continue
    fi
    die "pg_ctl start failed" "$LOGFILE" "$D/initdb.log"
  done
  psql "$ADMIN_URL" -XqAt -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PW'" \
    -c "CREATE DATABASE $PG_DB OWNER $PG_APP_USER" >>"$D/initdb.log" 2>&1 \
    || die "creating role $PG_APP_USER / database $PG_DB failed" "$D/initdb.log" "$LOGFILE"
  health || die "postgres started but 'select 1' as $PG_APP_USER failed" "$LOGFILE"
  echo "$KEY" > "$D/.key"
}

case ${1:-} in
  up)
    if health && [[ $(cat "$D/.key" 2>/dev/null) == "$KEY" ]]; then
      log "reusing running postgres (pid $(pid_from_file "$PIDFILE"))"
    else
      clean_up
      log "started postgres (pid $(pid_from_file "$PIDFILE")) on 127.0.0.1:$PG_PORT"
    fi ;;
  stop) stop_pid "$PIDFILE" postgres INT 0 15 ;;
  health) health ;;
  *) echo "usage: $0 up|stop|health" >&2; exit 2 ;;
esac
