# shellcheck shell=bash disable=SC2034  # settings are used by the scripts that source this file
# Shared settings and helpers for the throwaway test servers. Sourced, never run.
#
# Everything lives in the state dir ($PORTCULLIS_TEST_ENV_DIR, default $REPO/.test-env):
#   ldap/  mit-kdc/  postgres/  samba/  logs/  env.json  env.sh
# (plus the cached Samba template under /var/tmp/portcullis-test-servers/, see samba-ad.sh).

TS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TS_DIR/../.." && pwd)
STATE=${PORTCULLIS_TEST_ENV_DIR:-$REPO/.test-env}
mkdir -p "$STATE" "$STATE/logs"
STATE=$(cd "$STATE" && pwd)
chmod 755 "$STATE"   # postgres (non-root) must traverse it

# ---- fixed test settings (also what env.json advertises) -------------------------------
LDAP_PORT=3389
LDAPS_PORT=3636
LDAP_BASE=dc=example,dc=test
LDAP_ADMIN_DN=cn=admin,$LDAP_BASE
LDAP_ADMIN_PW=adminpass
LDAP_SERVICE_DN=cn=portcullis,ou=services,$LDAP_BASE
LDAP_SERVICE_PW=portcullis-svc-pass
LDAP_DIR=$STATE/ldap

MIT_REALM=EXAMPLE.TEST
MIT_PORT=8888
MIT_DIR=$STATE/mit-kdc

PG_PORT=55432
PG_ADMIN_PW=pgadminpass
PG_APP_USER=app
PG_APP_PW=apppass
PG_DB=authdb
PG_DIR=$STATE/postgres

AD_REALM=SAMDOM.TEST
AD_DOMAIN=SAMDOM
AD_BASE=DC=samdom,DC=test
AD_ADMIN_PW='Passw0rd!Admin'
AD_SVC_USER=portcullis-svc
AD_SVC_PW='Passw0rd!Svc1'
AD_DIR=$STATE/samba

# ---- logging ---------------------------------------------------------------------------
: "${TS_NAME:=test-servers}"
log() { printf '[%s] %s\n' "$TS_NAME" "$*" >&2; }

# die MESSAGE [LOGFILE...]: print an error naming the server, tail its logs, exit 1
die() {
  local msg=$1; shift
  printf '[%s] ERROR: %s\n' "$TS_NAME" "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf '[%s] ---- last 30 lines of %s ----\n' "$TS_NAME" "$f" >&2
      tail -n 30 "$f" | sed "s/^/[$TS_NAME]   /" >&2
    fi
  done
  exit 1
}

# ---- processes -------------------------------------------------------------------------
# pid_from_file FILE -> prints the pid (first line) or nothing
pid_from_file() { [[ -s $1 ]] && head -n1 "$1" | tr -dc '0-9'; return 0; }

# proc_running PID: exists and is not a zombie. Daemons are re-parented to PID 1, which on
# this machine kind reaps only every second or two, so a stopped server lingers as a zombie.
proc_running() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [[ -n $st && ${st:0:1} != Z ]]
}
# group_running PGID: some member of the process group is alive (not a zombie)
group_running() { ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'; }

# pid_alive PID EXPECTED_COMM: process running and its name matches (guards against PID reuse)
pid_alive() {
  local pid=$1 comm=$2
  [[ -n $pid ]] && proc_running "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm"* ]]
}

# stop_pid PIDFILE COMM [SIGNAL] [GROUP(0/1)] [TIMEOUT_S]: signal, wait until gone, then SIGKILL.
stop_pid() {
  local pidfile=$1 comm=$2 sig=${3:-TERM} group=${4:-0} timeout=${5:-15}
  local pid; pid=$(pid_from_file "$pidfile")
  if [[ -n $pid ]] && pid_alive "$pid" "$comm"; then
    if ((group)); then kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
    else kill -s "$sig" "$pid" 2>/dev/null || true; fi
    local i
    for ((i = 0; i < timeout * 50; i++)); do
      if ((group)); then group_running "$pid" || break
      else proc_running "$pid" || break; fi
      sleep 0.02
    done
    if ((group)) && group_running "$pid"; then
      log "process group $pid ($comm) did not stop after ${timeout}s; SIGKILL"; kill -KILL -- "-$pid" 2>/dev/null || true
    elif ((!group)) && proc_running "$pid"; then
      log "pid $pid ($comm) did not stop after ${timeout}s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < 100; i++)); do proc_running "$pid" || break; sleep 0.02; done
  fi
  rm -f "$pidfile"
}

# kill_orphans DIR: kill (by PID) leftover processes whose command line mentions DIR —
# i.e. servers we started earlier whose pid file was lost. Nothing else is touched.
kill_orphans() {
  local dir=$1 pid comm found=()
  while read -r pid comm; do
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    case $comm in
      slapd|krb5kdc|postgres|samba|smbd|winbindd) found+=("$pid") ;;
    esac
  done < <(ps -eo pid=,stat=,comm=,args= | awk -v d="$dir/" '$2 !~ /^Z/ && index($0, d) { print $1, $3 }')
  ((${#found[@]})) || return 0
  log "killing leftover processes from a previous run in $dir: ${found[*]}"
  for pid in "${found[@]}"; do
    # a group leader we started with setsid (samba): take its whole process group
    if [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]]; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
    kill -TERM "$pid" 2>/dev/null || true
  done
  local i
  for ((i = 0; i < 100; i++)); do
    local alive=0; for pid in "${found[@]}"; do proc_running "$pid" && alive=1; done
    ((alive)) || return 0; sleep 0.05
  done
  kill -KILL "${found[@]}" 2>/dev/null || true
}

# ---- ports -----------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_ports_free SERVER PORT...: fail with the owner of any busy TCP port
require_ports_free() {
  local server=$1; shift
  local p
  for p in "$@"; do
    if port_open "$p"; then
      local owner=""
      command -v ss >/dev/null 2>&1 && owner=$(ss -Hltnp "sport = :$p" 2>/dev/null | head -3)
      die "$server: TCP port 127.0.0.1:$p is already in use by another process: ${owner:-unknown owner}"
    fi
  done
}

# wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s
wait_until() {
  local timeout=$1; shift
  local i
  for ((i = 0; i < timeout * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# checksum of files (configuration key: a changed script/fixture forces a clean start)
files_key() { cat "$@" | sha256sum | cut -c1-16; }

# ---- locking (entry points only) ----------------------------------------------------------
take_lock() {
  [[ -n ${PORTCULLIS_TEST_LOCK_HELD:-} ]] && return 0
  exec 9>"$STATE/.lock"
  if ! flock -w 300 9; then die "could not get the lock $STATE/.lock within 300 s"; fi
  export PORTCULLIS_TEST_LOCK_HELD=1
}
