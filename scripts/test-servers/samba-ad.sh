#!/usr/bin/env bash
# Throwaway Samba AD DC for tests: realm SAMDOM.TEST, domain SAMDOM, base DC=samdom,DC=test,
# on 127.0.0.1 only: LDAP 389 (StartTLS), LDAPS 636, GC 3268, Kerberos 88, DNS 53, SMB 445.
# Own CA (tls/ca.pem) and server cert with SANs dc1.samdom.test, localhost, 127.0.0.1, $(hostname).
#
# Users (all created offline on the provisioned sam.ldb with samba-tool):
#   alice       Passw0rd!Alice   member of AppUsers
#   bob         Passw0rd!Bob
#   carol       Passw0rd!Carol   member of PortcullisAdmins
#   disabled1   Passw0rd!Dis1    disabled          (samba-tool user disable)
#   mustchange1 Passw0rd!Must1   must change password at next logon (pwdLastSet=0)
#   expired1    Passw0rd!Exp1    ACCOUNT expired   (samba-tool user setexpiry --days=0)
#   portcullis-svc Passw0rd!Svc1 service account for LDAP search binds
#   httpsvc     (random)         SPN HTTP/localhost, key exported to http.keytab
#   Administrator Passw0rd!Admin
# Domain password policy: max/min password age 0 (passwords never expire, so a cached template
# stays valid); lockout stays off (Samba default), so wrong-password tests never lock anyone.
#
# Observed on this machine (Samba 4.17.12-Debian), LDAPS simple bind with UPN user@SAMDOM.TEST:
#   alice, right password  -> success
#   alice, wrong password  -> Invalid credentials (49) "80090308: LdapErr: DSID-0C0903A9, comment:
#                             AcceptSecurityContext error, data 52e, v1db1"
#   disabled1              -> 49, "... data 533, v1db1"   (account disabled)
#   expired1               -> 49, "... data 701, v1db1"   (account expired)
#   mustchange1            -> 49, "... data 773, v1db1"   (user must reset password)
#   plain ldap:// simple bind (no TLS) -> "Strong(er) authentication required (8) BindSimple:
#                             Transport encryption required." (Samba default; use 636 or StartTLS)
#   kinit: alice OK; bob wrong pw -> "Password incorrect while getting initial credentials";
#   disabled1 and expired1 -> "Client's credentials have been revoked while getting initial
#   credentials"; mustchange1 -> "Password expired.  You must change it now." + new-password prompt.
#   HTTP/localhost service tickets and http.keytab: aes256/aes128 (see msDS-SupportedEncryptionTypes).
#
# Provisioning (+ users, keytab) takes ~5 s, so a finished, stopped DC directory is cached as a
# template under /var/tmp/portcullis-test-servers/samba-<key> (key = checksum of this script,
# lib.sh, hostname and samba version) and copied with `cp -a` (keeps xattrs) for each fresh
# start. Only etc/smb.conf holds absolute paths; they are rewritten after the copy.
# PORTCULLIS_TEST_SAMBA_CACHE=0 disables the cache.
#
# Pitfalls:
#  * needs samba-ad-dc/winbind (else samba exits: "winbindd: Failed to exec child") and
#    samba-ad-provision (else provision: "ad-schema/...ldf not found").
#  * the key file must be mode 0600 or samba refuses TLS.
#  * samba's generated private/krb5.conf uses DNS KDC lookup; we write krb5.conf with kdc=127.0.0.1.
#  * pid/ncalrpc/winbindd/ntp_signd directories default to /run/samba and /var/lib/samba:
#    they are pointed into the state dir so several state dirs never share them.
#  * `ldapwhoami` is not supported by AD (Protocol error 2); use ldapsearch.
#
# Usage: samba-ad.sh up|stop|health
set -euo pipefail
TS_NAME=samba-ad
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

D=$AD_DIR
PIDFILE=$D/samba.pid
LOGFILE=$D/samba.log
KEY=$(files_key "$0" "$TS_DIR/lib.sh"; hostname; samba --version 2>/dev/null)
KEY=$(echo "$KEY" | sha256sum | cut -c1-16)
TEMPLATE_ROOT=${PORTCULLIS_TEST_SAMBA_TEMPLATE_ROOT:-/var/tmp/portcullis-test-servers}
TEMPLATE=$TEMPLATE_ROOT/samba-$KEY
TEMPLATE_MAX_AGE_DAYS=14
PORTS=(53 88 135 139 389 445 464 636 3268 3269)

health() {
  local pid; pid=$(pid_from_file "$PIDFILE")
  pid_alive "$pid" samba || return 1
  LDAPTLS_CACERT=$D/tls/ca.pem ldapsearch -x -H ldaps://127.0.0.1:636 -D "$AD_SVC_USER@$AD_REALM" \
    -w "$AD_SVC_PW" -b "$AD_BASE" -s base dn >/dev/null 2>&1
}

kinit_alice() { # kinit alice into $1; proves the KDC on :88 answers
  echo 'Passw0rd!Alice' | KRB5_CONFIG=$D/krb5.conf KRB5CCNAME=FILE:$1 kinit alice >/dev/null 2>&1
}

# build DIR: certificates, provision, users, SPN, keytab — all offline (samba not running)
build() {
  local B=$1
  rm -rf "$B"; mkdir -p "$B/tls" "$B/logs"
  (
    cd "$B/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Portcullis Test AD CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=dc1.samdom.test" -keyout key.pem -out srv.csr 2>/dev/null
    printf 'subjectAltName=DNS:dc1.samdom.test,DNS:localhost,DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
      "$(hostname)" > san.ext
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
      -extfile san.ext -out cert.pem 2>/dev/null
    chmod 600 key.pem ca.key
  ) || die "openssl failed while making the AD certificates"
  mkdir -p "$B/run/pid"   # the others samba creates itself (it insists on their modes)
  samba-tool domain provision --realm="$AD_REALM" --domain="$AD_DOMAIN" --server-role=dc \
    --dns-backend=SAMBA_INTERNAL --adminpass="$AD_ADMIN_PW" --targetdir="$B/run" \
    --host-name=dc1 --host-ip=127.0.0.1 --use-rfc2307 \
    --option="interfaces=127.0.0.1" --option="bind interfaces only=yes" \
    --option="dns forwarder=127.0.0.1" \
    --option="rpc server dynamic port range=49152-49999" \
    --option="log file=$B/logs/log.%m" \
    --option="pid directory=$B/run/pid" --option="ncalrpc dir=$B/run/ncalrpc" \
    --option="winbindd socket directory=$B/run/winbindd" \
    --option="ntp signd socket directory=$B/run/ntp_signd" \
    --option="tls enabled=yes" --option="tls keyfile=$B/tls/key.pem" \
    --option="tls certfile=$B/tls/cert.pem" --option="tls cafile=$B/tls/ca.pem" \
    > "$B/provision.log" 2>&1 || die "samba-tool domain provision failed" "$B/provision.log"
  local C=$B/run/etc/smb.conf
  st() { samba-tool "$@" -s "$C" >>"$B/provision.log" 2>&1 || die "samba-tool $* failed" "$B/provision.log"; }
  st domain passwordsettings set --max-pwd-age=0 --min-pwd-age=0
  st user create alice 'Passw0rd!Alice' --use-username-as-cn --given-name=Alice --surname=Anderson --mail-address=alice@samdom.test
  st user create bob 'Passw0rd!Bob' --use-username-as-cn --given-name=Bob --surname=Brown --mail-address=bob@samdom.test
  st user create carol 'Passw0rd!Carol' --use-username-as-cn --given-name=Carol --surname=Clark --mail-address=carol@samdom.test
  st user create disabled1 'Passw0rd!Dis1' --use-username-as-cn --given-name=Disabled --surname=One
  st user disable disabled1
  st user create mustchange1 'Passw0rd!Must1' --use-username-as-cn --given-name=Must --surname=Change --must-change-at-next-login
  st user create expired1 'Passw0rd!Exp1' --use-username-as-cn --given-name=Expired --surname=One
  st user setexpiry expired1 --days=0
  st user create "$AD_SVC_USER" "$AD_SVC_PW" --description="Portcullis LDAP search-bind account"
  st user create httpsvc --random-password --description="Portcullis HTTP SPNEGO service"
  st group add AppUsers
  st group addmembers AppUsers alice
  st group add PortcullisAdmins
  st group addmembers PortcullisAdmins carol
  st spn add HTTP/localhost httpsvc
  # Without msDS-SupportedEncryptionTypes AD issues RC4 (arcfour-hmac) service tickets and
  # exportkeytab writes only the RC4 key; 24 = AES128 + AES256, like "This account supports
  # Kerberos AES 128/256 bit encryption" on a real AD service account.
  /usr/bin/python3 - "$C" "$AD_BASE" >>"$B/provision.log" 2>&1 <<'PY' || die "setting msDS-SupportedEncryptionTypes on httpsvc failed" "$B/provision.log"
import sys, ldb
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
m = ldb.Message(); m.dn = ldb.Dn(db, "CN=httpsvc,CN=Users," + sys.argv[2])
m["e"] = ldb.MessageElement("24", ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
db.modify(m)
PY
  st domain exportkeytab "$B/http.keytab" --principal=HTTP/localhost
  echo "$B" > "$B/.origin"
}

# relocate DIR: rewrite the absolute paths in smb.conf after a copy
relocate() {
  local B=$1 old; old=$(cat "$B/.origin")
  if [[ $old != "$B" ]]; then
    local conf; conf=$(<"$B/run/etc/smb.conf")
    printf '%s\n' "${conf//"$old"/"$B"}" > "$B/run/etc/smb.conf"
    echo "$B" > "$B/.origin"
  fi
}

template_ok() {
  [[ -f $TEMPLATE/.complete ]] || return 1
  [[ -z $(find "$TEMPLATE/.complete" -mtime +"$TEMPLATE_MAX_AGE_DAYS" 2>/dev/null) ]]
}

# save_template: copy a freshly built (never started) $D to the cache, atomically
save_template() {
  mkdir -p "$TEMPLATE_ROOT"; chmod 700 "$TEMPLATE_ROOT"
  local tmp; tmp=$(mktemp -d "$TEMPLATE_ROOT/.build-XXXXXX")
  if cp -a "$D/." "$tmp/" 2>>"$STATE/logs/samba-template.log"; then
    touch "$tmp/.complete"
    rm -rf "$TEMPLATE.old"
    [[ -e $TEMPLATE ]] && mv "$TEMPLATE" "$TEMPLATE.old"
    mv -T "$tmp" "$TEMPLATE" 2>/dev/null || rm -rf "$tmp"
    rm -rf "$TEMPLATE.old"
    # drop templates of other script versions not used for a week
    find "$TEMPLATE_ROOT" -mindepth 1 -maxdepth 1 -name 'samba-*' ! -name "samba-$KEY" -mtime +7 \
      -exec rm -rf {} + 2>/dev/null || true
  else
    log "warning: could not cache the Samba template (see $STATE/logs/samba-template.log)"
    rm -rf "$tmp"
  fi
}

write_krb5_conf() {
  cat > "$D/krb5.conf" <<EOF
[libdefaults]
  default_realm = $AD_REALM
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
[realms]
  $AD_REALM = {
    kdc = 127.0.0.1
    admin_server = 127.0.0.1
    kpasswd_server = 127.0.0.1
  }
[domain_realm]
  localhost = $AD_REALM
  .samdom.test = $AD_REALM
  samdom.test = $AD_REALM
EOF
}

clean_up() {
  stop_pid "$PIDFILE" samba TERM 1 20
  kill_orphans "$D"
  rm -rf "$D"
  require_ports_free samba-ad "${PORTS[@]}"
  local from=""
  if [[ ${PORTCULLIS_TEST_SAMBA_CACHE:-1} != 0 ]] && template_ok; then
    mkdir -p "$D"
    if cp -a "$TEMPLATE/." "$D/" 2>"$STATE/logs/samba-template.log"; then
      rm -f "$D/.complete"; relocate "$D"; from="template $TEMPLATE"
    else
      log "warning: copying the template failed (see $STATE/logs/samba-template.log); provisioning instead"
      rm -rf "$D"
    fi
  fi
  if [[ -z $from ]]; then
    build "$D"
    from="fresh provision"
    [[ ${PORTCULLIS_TEST_SAMBA_CACHE:-1} != 0 ]] && save_template
  fi
  write_krb5_conf
  # setsid: own session/process group (pid = pgid), so stop can signal all samba children
  # and a Ctrl-C in the calling terminal does not reach it.
  setsid samba -s "$D/run/etc/smb.conf" -F --debug-stdout -d 1 >"$LOGFILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" > "$PIDFILE"
  local i
  for ((i = 0; i < 600; i++)); do   # 60 s
    health && break
    pid_alive "$pid" samba || die "samba exited during start-up" "$LOGFILE"
    sleep 0.1
  done
  health || die "samba not answering LDAPS bind as $AD_SVC_USER within 60 s" "$LOGFILE"
  [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] || log "warning: samba is not its own process group leader"
  wait_until 30 kinit_alice "$D/.kinit-probe" || die "Samba KDC on 127.0.0.1:88 not answering kinit alice" "$LOGFILE"
  rm -f "$D/.kinit-probe"
  echo "$KEY" > "$D/.key"
  log "started samba AD DC (pid $pid) from $from"
}

case ${1:-} in
  up)
    if health && [[ $(cat "$D/.key" 2>/dev/null) == "$KEY" ]]; then
      log "reusing running samba (pid $(pid_from_file "$PIDFILE"))"
    else
      clean_up
    fi
    kinit_alice "$D/ccache" || die "kinit alice into $D/ccache failed" "$LOGFILE" ;;
  stop) stop_pid "$PIDFILE" samba TERM 1 20 ;;
  health) health ;;
  *) echo "usage: $0 up|stop|health" >&2; exit 2 ;;
esac
