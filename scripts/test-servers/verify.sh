#!/usr/bin/env bash
# End-to-end checks of the servers started by up.sh, with the CLI clients (ldapsearch, kinit,
# psql). Read-only except for a scratch database it creates and drops. ~3 s.
#   scripts/test-servers/verify.sh      -> one line per check, then "N passed, N failed"
set -uo pipefail
TS_NAME=verify
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[[ -s $STATE/env.json ]] || die "no $STATE/env.json: run scripts/test-servers/up.sh first"

pass=0 fail=0
ok()  { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$1"; [[ -n ${2:-} ]] && printf '      %s\n' "$2"; }
# check NAME CMD... : CMD must succeed
check() { local n=$1; shift; local out; if out=$("$@" 2>&1); then ok "$n"; else bad "$n" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi; }
# check_fails NAME PATTERN CMD... : CMD must fail and its output match PATTERN (grep -E)
check_fails() {
  local n=$1 pat=$2; shift 2; local out
  if out=$("$@" 2>&1); then bad "$n" "unexpectedly succeeded"
  elif grep -qE -- "$pat" <<<"$out"; then ok "$n"
  else bad "$n" "expected /$pat/, got: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
# check_out NAME PATTERN CMD... : CMD must succeed and print PATTERN
check_out() {
  local n=$1 pat=$2; shift 2; local out
  if out=$("$@" 2>&1) && grep -qiE -- "$pat" <<<"$out"; then ok "$n"
  else bad "$n" "expected /$pat/, got: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# ---------------- OpenLDAP ----------------
L=ldap://127.0.0.1:$LDAP_PORT LS=ldaps://127.0.0.1:$LDAPS_PORT CA=$LDAP_DIR/tls/ca.crt
P="ou=people,$LDAP_BASE"
s() { ldapsearch -x -LLL -o nettimeout=5 "$@"; }
for u in alice:alicepass bob:bobpass carol:carolpass dave:davepass erin:erinpass 'star*user:starpass'; do
  check "ldap: plain ldap:// simple bind ${u%%:*}" s -H "$L" -D "uid=${u%%:*},$P" -w "${u#*:}" -b "$LDAP_BASE" -s base dn
done
check_fails "ldap: wrong password -> 49" 'Invalid credentials \(49\)' s -H "$L" -D "uid=alice,$P" -w nope -b "$LDAP_BASE" -s base dn
check "ldap: StartTLS (-ZZ) with ca.crt" env LDAPTLS_CACERT="$CA" ldapsearch -x -LLL -ZZ -H "$L" -D "uid=bob,$P" -w bobpass -b "$LDAP_BASE" -s base dn
check "ldap: ldaps://127.0.0.1 with ca.crt" env LDAPTLS_CACERT="$CA" ldapsearch -x -LLL -H "$LS" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$LDAP_BASE" -s base dn
check "ldap: ldaps://localhost with ca.crt (SAN)" env LDAPTLS_CACERT="$CA" ldapsearch -x -LLL -H "ldaps://localhost:$LDAPS_PORT" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$LDAP_BASE" -s base dn
check_fails "ldap: ldaps with wrong-ca.crt is rejected" "Can't contact LDAP server" env LDAPTLS_CACERT="$LDAP_DIR/tls/wrong-ca.crt" ldapsearch -x -LLL -H "$LS" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$LDAP_BASE" -s base dn
check_fails "ldap: StartTLS with wrong-ca.crt is rejected" "Connect error|Can't contact" env LDAPTLS_CACERT="$LDAP_DIR/tls/wrong-ca.crt" ldapsearch -x -LLL -ZZ -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$LDAP_BASE" -s base dn
check_fails "ldap: wrong-ca.crt did not sign server.crt" "verification failed" openssl verify -CAfile "$LDAP_DIR/tls/wrong-ca.crt" "$LDAP_DIR/tls/server.crt"
check_out "ldap: server cert SANs" 'DNS:localhost.*IP Address:127.0.0.1' openssl x509 -in "$LDAP_DIR/tls/server.crt" -noout -ext subjectAltName
check_out "ldap: service search (uid=star\\2auser)" "^dn: uid=star\\*user,$P" s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$P" '(uid=star\2auser)' dn
n=$(s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "$P" '(objectClass=inetOrgPerson)' dn | grep -c '^dn:')
[[ $n == 6 ]] && ok "ldap: service account sees 6 people" || bad "ldap: service account sees 6 people" "saw $n"
check_out "ldap: alice memberOf staff" "^memberOf: cn=staff,ou=groups,$LDAP_BASE" s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "uid=alice,$P" -s base memberOf
check_out "ldap: carol memberOf portcullis-admins" "^memberOf: cn=portcullis-admins,ou=groups,$LDAP_BASE" s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "uid=carol,$P" -s base memberOf
check_out "ldap: groups readable by service" "^member: uid=carol" s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "ou=groups,$LDAP_BASE" '(cn=portcullis-admins)' member
out=$(s -H "$L" -D "$LDAP_SERVICE_DN" -w "$LDAP_SERVICE_PW" -b "uid=alice,$P" -s base userPassword 2>&1)
grep -q userPassword <<<"$out" && bad "ldap: service cannot read userPassword" || ok "ldap: service cannot read userPassword"
out=$(s -H "$L" -b "$P" '(uid=alice)' dn 2>&1)
grep -q '^dn:' <<<"$out" && bad "ldap: anonymous search finds nothing" || ok "ldap: anonymous search finds nothing"

# ---------------- Samba AD ----------------
export LDAPTLS_CACERT_AD=$AD_DIR/tls/ca.pem
a() { LDAPTLS_CACERT=$AD_DIR/tls/ca.pem ldapsearch -x -LLL -o nettimeout=5 "$@"; }
check_out "ad: LDAPS bind alice@SAMDOM.TEST, memberOf AppUsers" "memberOf: CN=AppUsers,CN=Users,$AD_BASE" a -H ldaps://127.0.0.1:636 -D "alice@$AD_REALM" -w 'Passw0rd!Alice' -b "$AD_BASE" '(sAMAccountName=alice)' memberOf
check_out "ad: carol memberOf PortcullisAdmins" "memberOf: CN=PortcullisAdmins,CN=Users,$AD_BASE" a -H ldaps://127.0.0.1:636 -D "$AD_SVC_USER@$AD_REALM" -w "$AD_SVC_PW" -b "$AD_BASE" '(sAMAccountName=carol)' memberOf
check_out "ad: service search finds alice's DN" "^dn: CN=alice,CN=Users,$AD_BASE" a -H ldaps://127.0.0.1:636 -D "$AD_SVC_USER@$AD_REALM" -w "$AD_SVC_PW" -b "$AD_BASE" '(sAMAccountName=alice)' dn
check "ad: StartTLS bind SAMDOM\\bob" a -ZZ -H ldap://127.0.0.1:389 -D 'SAMDOM\bob' -w 'Passw0rd!Bob' -b "$AD_BASE" -s base dn
check "ad: LDAPS to localhost (SAN)" a -H ldaps://localhost:636 -D "carol@$AD_REALM" -w 'Passw0rd!Carol' -b "$AD_BASE" -s base dn
check_fails "ad: plain ldap:// simple bind refused" 'Strong\(er\) authentication required|Transport encryption required' a -H ldap://127.0.0.1:389 -D "alice@$AD_REALM" -w 'Passw0rd!Alice' -b "$AD_BASE" -s base dn
check_fails "ad: wrong password -> data 52e" 'data 52e' a -H ldaps://127.0.0.1:636 -D "alice@$AD_REALM" -w wrong -b "$AD_BASE" -s base dn
check_fails "ad: disabled1 -> data 533" 'data 533' a -H ldaps://127.0.0.1:636 -D "disabled1@$AD_REALM" -w 'Passw0rd!Dis1' -b "$AD_BASE" -s base dn
check_fails "ad: expired1 -> data 701" 'data 701' a -H ldaps://127.0.0.1:636 -D "expired1@$AD_REALM" -w 'Passw0rd!Exp1' -b "$AD_BASE" -s base dn
check_fails "ad: mustchange1 -> data 773" 'data 773' a -H ldaps://127.0.0.1:636 -D "mustchange1@$AD_REALM" -w 'Passw0rd!Must1' -b "$AD_BASE" -s base dn
check_fails "ad: ldaps with the OpenLDAP CA is rejected" "Can't contact LDAP server" env LDAPTLS_CACERT="$LDAP_DIR/tls/ca.crt" ldapsearch -x -LLL -H ldaps://127.0.0.1:636 -D "alice@$AD_REALM" -w 'Passw0rd!Alice' -b "$AD_BASE" -s base dn
TMPCC=$(mktemp "$STATE/logs/.verifycc.XXXXXX")
kin() { # kin KRB5_CONFIG PRINCIPAL PASSWORD
  echo "$3" | KRB5_CONFIG=$1 KRB5CCNAME=FILE:$TMPCC kinit "$2"
}
check "ad: kinit alice (KDC 127.0.0.1:88)" kin "$AD_DIR/krb5.conf" alice 'Passw0rd!Alice'
check_out "ad: kvno HTTP/localhost" 'kvno = [0-9]+' env KRB5_CONFIG="$AD_DIR/krb5.conf" KRB5CCNAME="FILE:$TMPCC" kvno HTTP/localhost
check_out "ad: HTTP/localhost service ticket is AES" 'tkt\): [a-z0-9-]+, aes256' bash -c "KRB5CCNAME=FILE:$TMPCC klist -e | grep -A1 HTTP/localhost"
check_out "ad: keytab holds AES key for HTTP/localhost@SAMDOM.TEST" "HTTP/localhost@$AD_REALM \\(aes256-cts" klist -ke "$AD_DIR/http.keytab"
check_out "ad: ccache has alice's TGT" "krbtgt/$AD_REALM@$AD_REALM" env KRB5CCNAME="FILE:$AD_DIR/ccache" klist
check_fails "ad: kinit wrong password fails" 'Preauthentication failed|Password incorrect' kin "$AD_DIR/krb5.conf" bob wrong
check_fails "ad: kinit disabled1 fails" 'revoked|disabled' kin "$AD_DIR/krb5.conf" disabled1 'Passw0rd!Dis1'
check_fails "ad: kinit expired1 fails" 'revoked|expired' kin "$AD_DIR/krb5.conf" expired1 'Passw0rd!Exp1'

# ---------------- MIT KDC ----------------
check "mit: kinit alice (KDC 127.0.0.1:$MIT_PORT)" kin "$MIT_DIR/krb5.conf" alice alicepass
check_out "mit: kvno HTTP/localhost" 'kvno = [0-9]+' env KRB5_CONFIG="$MIT_DIR/krb5.conf" KRB5CCNAME="FILE:$TMPCC" kvno HTTP/localhost
check "mit: kinit bob" kin "$MIT_DIR/krb5.conf" bob bobpass
check_fails "mit: kinit wrong password fails" 'Password incorrect|Preauthentication failed' kin "$MIT_DIR/krb5.conf" bob wrong
check_out "mit: keytab holds HTTP/localhost@EXAMPLE.TEST" "HTTP/localhost@$MIT_REALM" klist -k "$MIT_DIR/http.keytab"
check_out "mit: ccache has alice's TGT" "krbtgt/$MIT_REALM@$MIT_REALM" env KRB5CCNAME="FILE:$MIT_DIR/ccache" klist
rm -f "$TMPCC"

# ---------------- PostgreSQL ----------------
URL="postgres://$PG_APP_USER:$PG_APP_PW@127.0.0.1:$PG_PORT/$PG_DB"
check_out "pg: app connects to authdb" '^authdb$' psql "$URL" -XAtc 'select current_database()'
check "pg: app can CREATE/DROP DATABASE" bash -c "psql '$URL' -Xqc 'create database verify_scratch_$$' && psql '$URL' -Xqc 'drop database verify_scratch_$$'"
check_fails "pg: wrong password rejected" 'password authentication failed' psql "postgres://$PG_APP_USER:nope@127.0.0.1:$PG_PORT/$PG_DB" -XAtc 'select 1'
check "pg: admin URL works" psql "postgres://postgres:$PG_ADMIN_PW@127.0.0.1:$PG_PORT/postgres" -XAtc 'select 1'

# ---------------- through the app's Node libraries (if node_modules is installed) ----------------
NODE_CHECKS=$TS_DIR/node-checks.cjs
if [[ -d $REPO/node_modules/kerberos && -d $REPO/node_modules/ldapts && -d $REPO/node_modules/pg ]] && command -v node >/dev/null; then
  nc() { (cd "$REPO" && node "$NODE_CHECKS" "$@"); }
  check_out "node: SPNEGO alice -> HTTP/localhost (Samba AD KDC)" "accepted alice@$AD_REALM" \
    env KRB5_CONFIG="$AD_DIR/krb5.conf" KRB5CCNAME="FILE:$AD_DIR/ccache" KRB5_KTNAME="FILE:$AD_DIR/http.keytab" bash -c "cd '$REPO' && node '$NODE_CHECKS' spnego alice@$AD_REALM"
  check_out "node: SPNEGO alice -> HTTP/localhost (MIT KDC)" "accepted alice@$MIT_REALM" \
    env KRB5_CONFIG="$MIT_DIR/krb5.conf" KRB5CCNAME="FILE:$MIT_DIR/ccache" KRB5_KTNAME="FILE:$MIT_DIR/http.keytab" bash -c "cd '$REPO' && node '$NODE_CHECKS' spnego alice@$MIT_REALM"
  check_out "node: ldapts LDAPS bind (slapd, ca.crt)" "bound" nc ldaps "ldaps://localhost:$LDAPS_PORT" "$LDAP_DIR/tls/ca.crt" "uid=alice,$P" alicepass
  check_fails "node: ldapts LDAPS with wrong-ca.crt rejected" "self-signed|unable to verify|certificate" nc ldaps "ldaps://127.0.0.1:$LDAPS_PORT" "$LDAP_DIR/tls/wrong-ca.crt" "uid=alice,$P" alicepass
  check_out "node: ldapts LDAPS bind (AD, UPN)" "bound" nc ldaps ldaps://127.0.0.1:636 "$AD_DIR/tls/ca.pem" "alice@$AD_REALM" 'Passw0rd!Alice'
  check_fails "node: ldapts AD disabled1 -> data 533" "data 533" nc ldaps ldaps://127.0.0.1:636 "$AD_DIR/tls/ca.pem" "disabled1@$AD_REALM" 'Passw0rd!Dis1'
  check_out "node: pg connects as app" "connected as app" nc pg "$URL"
else
  echo "skip  node library checks (node_modules not installed)"
fi

# ---------------- Chromium ----------------
CH=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chromium"]["path"])' "$STATE/env.json")
[[ -x $CH ]] && ok "chromium: $CH is executable" || bad "chromium: $CH is executable"

# ---------------- only loopback ----------------
if command -v ss >/dev/null; then
  pids=" $(pid_from_file "$LDAP_DIR/slapd.pid") $(pid_from_file "$MIT_DIR/kdc.pid") $(pid_from_file "$PG_DIR/data/postmaster.pid") "
  sp=$(pid_from_file "$AD_DIR/samba.pid"); [[ -n $sp ]] && pids+="$(ps -o pid= -g "$sp" | tr -s ' \n' ' ') "
  nonlocal=$(ss -Hltunp | awk '{print $5, $7}' | grep -vE '^(127\.|\[::1\]|\[::ffff:127\.)' | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u | while read -r p; do [[ $pids == *" $p "* ]] && echo "$p"; done)
  [[ -z $nonlocal ]] && ok "all test servers listen on loopback only" || bad "all test servers listen on loopback only" "non-loopback listeners: pids $nonlocal"
fi

echo "$pass passed, $fail failed"
((fail == 0))
