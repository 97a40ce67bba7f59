#!/usr/bin/env bash
# Throwaway MIT Kerberos KDC, realm EXAMPLE.TEST, on 127.0.0.1:8888 (udp+tcp). No /etc changes.
# Principals: alice/alicepass, bob/bobpass, HTTP/localhost (random key, in http.keytab).
# Files: krb5.conf (client profile: kdc = 127.0.0.1:8888), kdc.conf, http.keytab, ccache
# (pre-filled with alice's TGT by `up`; tests may kinit into it again).
#
# Usage: mit-kdc.sh up|stop|health
#
# Pitfalls:
#  * MIT profile syntax: `REALM = {` must end the line; a one-line `REALM = { kdc = x }` is
#    silently ignored ("Cannot find KDC for realm").
#  * dns_canonicalize_hostname/rdns = false and [domain_realm] localhost, or HTTP@localhost is
#    canonicalised to another principal.
#  * Samba's KDC owns 127.0.0.1:88, so this one stays on 8888.
set -euo pipefail
TS_NAME=mit-kdc
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

D=$MIT_DIR
PIDFILE=$D/kdc.pid
LOGFILE=$D/kdc.log
KEY=$(files_key "$0" "$TS_DIR/lib.sh")
export KRB5_CONFIG=$D/krb5.conf KRB5_KDC_PROFILE=$D/kdc.conf

health() {
  pid_alive "$(pid_from_file "$PIDFILE")" krb5kdc || return 1
  local cc; cc=$(mktemp "$STATE/logs/.mitcc.XXXXXX")
  local rc=0
  echo alicepass | KRB5CCNAME=FILE:$cc kinit alice >/dev/null 2>&1 || rc=1
  rm -f "$cc"
  return $rc
}

clean_up() {
  stop_pid "$PIDFILE" krb5kdc TERM 0 10
  kill_orphans "$D"
  rm -rf "$D"; mkdir -p "$D"
  require_ports_free mit-kdc "$MIT_PORT"
  cat > "$D/krb5.conf" <<EOF
[libdefaults]
  default_realm = $MIT_REALM
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
[realms]
  $MIT_REALM = {
    kdc = 127.0.0.1:$MIT_PORT
  }
[domain_realm]
  localhost = $MIT_REALM
  .example.test = $MIT_REALM
  example.test = $MIT_REALM
EOF
  cat > "$D/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$MIT_PORT
  kdc_tcp_listen = 127.0.0.1:$MIT_PORT
[realms]
  $MIT_REALM = {
    database_name = $D/principal
    key_stash_file = $D/stash
    acl_file = $D/kadm5.acl
    max_life = 10h 0m 0s
    max_renewable_life = 7d 0h 0m 0s
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$LOGFILE
EOF
  : > "$D/kadm5.acl"
  : > "$LOGFILE"
  {
    kdb5_util create -s -r "$MIT_REALM" -P "kdc-master-pw" &&
    kadmin.local -q "addprinc -pw alicepass alice" &&
    kadmin.local -q "addprinc -pw bobpass bob" &&
    kadmin.local -q "addprinc -randkey HTTP/localhost" &&
    kadmin.local -q "ktadd -k $D/http.keytab HTTP/localhost"
  } >>"$D/setup.log" 2>&1 || die "creating the realm database failed" "$D/setup.log"
  krb5kdc -P "$PIDFILE" >>"$LOGFILE" 2>&1 || die "krb5kdc failed to start" "$LOGFILE"
  wait_until 10 health || die "KDC not answering (kinit alice) on 127.0.0.1:$MIT_PORT within 10 s" "$LOGFILE"
  echo "$KEY" > "$D/.key"
}

case ${1:-} in
  up)
    if health && [[ $(cat "$D/.key" 2>/dev/null) == "$KEY" ]]; then
      log "reusing running krb5kdc (pid $(pid_from_file "$PIDFILE"))"
    else
      clean_up
      log "started krb5kdc (pid $(pid_from_file "$PIDFILE")) for $MIT_REALM on 127.0.0.1:$MIT_PORT"
    fi
    # fresh TGT for alice in the advertised ccache
    echo alicepass | KRB5CCNAME=FILE:$D/ccache kinit alice >/dev/null 2>&1 \
      || die "kinit alice into $D/ccache failed" "$LOGFILE" ;;
  stop) stop_pid "$PIDFILE" krb5kdc TERM 0 10 ;;
  health) health ;;
  *) echo "usage: $0 up|stop|health" >&2; exit 2 ;;
esac
