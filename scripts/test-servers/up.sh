#!/usr/bin/env bash
# Start ALL throwaway test servers on 127.0.0.1 (in parallel) and describe them in
#   $STATE/env.json  (JSON object, see below)   and   $STATE/env.sh  (export lines)
# where STATE = $PORTCULLIS_TEST_ENV_DIR or $REPO/.test-env.
#
#   scripts/test-servers/up.sh            reuse servers that are running, healthy and of the same
#                                         configuration; clean-start the others
#   scripts/test-servers/up.sh --fresh    stop everything first: all servers start from scratch
#                                         (use when tests changed directory/database contents)
#   scripts/test-servers/up.sh --verify   afterwards run verify.sh (end-to-end checks, ~3 s)
#
#   servers: OpenLDAP slapd (ldap.sh), Samba AD DC (samba-ad.sh), MIT KDC (mit-kdc.sh),
#            PostgreSQL (postgres.sh); Chromium is only located.
# Stop them with scripts/test-servers/down.sh. Env: PORTCULLIS_TEST_SKIP_INSTALL=1 skips the
# package check; PORTCULLIS_TEST_SAMBA_CACHE=0 disables the Samba template cache.
#
# A failing server is named and the tail of its log printed; the servers that did start are left
# running (run down.sh).
set -euo pipefail
TS_NAME=up
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

FRESH=0 VERIFY=0
for a in "$@"; do
  case $a in
    --fresh) FRESH=1 ;;
    --verify) VERIFY=1 ;;
    *) echo "usage: $0 [--fresh] [--verify]" >&2; exit 2 ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root (Samba binds ports < 1024; postgres runs via runuser)"
T0=$(date +%s%N)
take_lock

if [[ -z ${PORTCULLIS_TEST_SKIP_INSTALL:-} ]]; then
  "$TS_DIR/install-packages.sh" 9>&- || die "install-packages.sh failed"
fi

if ((FRESH)); then "$TS_DIR/down.sh" >/dev/null; fi
rm -f "$STATE/env.json" "$STATE/env.sh"

declare -A JOBS=()
SERVERS=(postgres samba-ad ldap mit-kdc)   # postgres first (see postgres.sh reserve_port), then the slowest
for s in "${SERVERS[@]}"; do
  "$TS_DIR/$s.sh" up >"$STATE/logs/$s.up.log" 2>&1 9>&- &   # 9>&-: daemons must not inherit the lock
  JOBS[$s]=$!
done
failed=()
for s in "${SERVERS[@]}"; do
  if ! wait "${JOBS[$s]}"; then failed+=("$s"); fi
done
for s in "${SERVERS[@]}"; do
  sed 's/^/  /' "$STATE/logs/$s.up.log" >&2
done
if ((${#failed[@]})); then
  for s in "${failed[@]}"; do
    printf '[up] ERROR: server "%s" failed to start; its output (%s):\n' "$s" "$STATE/logs/$s.up.log" >&2
    tail -n 50 "$STATE/logs/$s.up.log" | sed "s/^/[up:$s]   /" >&2
  done
  die "failed: ${failed[*]} (the others are left running; stop all with scripts/test-servers/down.sh)"
fi

CHROMIUM=$(command -v chromium || true)
[[ -n $CHROMIUM ]] || CHROMIUM=/usr/bin/chromium

# ---- env.json / env.sh --------------------------------------------------------------------
export STATE LDAP_DIR MIT_DIR PG_DIR AD_DIR LDAP_PORT LDAPS_PORT LDAP_BASE LDAP_ADMIN_DN LDAP_ADMIN_PW \
  LDAP_SERVICE_DN LDAP_SERVICE_PW MIT_REALM MIT_PORT PG_PORT PG_ADMIN_PW PG_APP_USER PG_APP_PW PG_DB \
  AD_REALM AD_DOMAIN AD_BASE AD_ADMIN_PW AD_SVC_USER AD_SVC_PW CHROMIUM
/usr/bin/python3 - <<'PY' || die "writing env.json failed"
import json, os, shlex
e = os.environ
S = e["STATE"]
L, M, P, A = e["LDAP_DIR"], e["MIT_DIR"], e["PG_DIR"], e["AD_DIR"]
base = e["LDAP_BASE"]
people, groups = f"ou=people,{base}", f"ou=groups,{base}"
ldap_users = {}
for uid, pw, cn in [("alice", "alicepass", "Alice Anderson"), ("bob", "bobpass", "Bob Brown"),
                    ("carol", "carolpass", "Carol Clark"), ("dave", "davepass", "Dave Davis"),
                    ("erin", "erinpass", "Erin Evans"), ("star*user", "starpass", "Star User")]:
    ldap_users[uid] = {"uid": uid, "password": pw, "dn": f"uid={uid},{people}", "cn": cn,
                       "mail": ("star.user" if uid == "star*user" else uid) + "@example.test"}
ldap_users["alice"]["groups"] = [f"cn=staff,{groups}"]
ldap_users["carol"]["groups"] = [f"cn=portcullis-admins,{groups}"]
ad_base = e["AD_BASE"]
realm = e["AD_REALM"]
def ad_user(sam, pw, **kw):
    d = {"sAMAccountName": sam, "upn": f"{sam}@{realm}", "password": pw,
         "dn": f"CN={kw.pop('cn', sam)},CN=Users,{ad_base}"}
    d.update(kw)
    return d
env = {
  "stateDir": S,
  "ldap": {
    "url": f"ldap://127.0.0.1:{e['LDAP_PORT']}",
    "ldapsUrl": f"ldaps://127.0.0.1:{e['LDAPS_PORT']}",
    "startTls": True,
    "allowsPlainSimpleBind": True,
    "caFile": f"{L}/tls/ca.crt",
    "wrongCaFile": f"{L}/tls/wrong-ca.crt",
    "baseDn": base, "peopleDn": people, "groupsDn": groups,
    "serviceDn": e["LDAP_SERVICE_DN"], "servicePassword": e["LDAP_SERVICE_PW"],
    "adminDn": e["LDAP_ADMIN_DN"], "adminPassword": e["LDAP_ADMIN_PW"],
    "userFilter": "(uid={{username}})",
    "adminGroupDn": f"cn=portcullis-admins,{groups}",
    "staffGroupDn": f"cn=staff,{groups}",
    "users": ldap_users,
    "pidFile": f"{L}/slapd.pid",
    "logFile": f"{L}/slapd.log",
  },
  "ad": {
    "ldapsUrl": "ldaps://127.0.0.1:636",
    "ldapUrl": "ldap://127.0.0.1:389",
    "ldapRequiresStartTls": True,
    "globalCatalogUrl": "ldap://127.0.0.1:3268",
    "caFile": f"{A}/tls/ca.pem",
    "baseDn": ad_base, "usersDn": f"CN=Users,{ad_base}",
    "realm": realm, "domain": e["AD_DOMAIN"], "dnsDomain": realm.lower(),
    "bindUpn": f"{e['AD_SVC_USER']}@{realm}", "bindPassword": e["AD_SVC_PW"],
    "bindDn": f"CN={e['AD_SVC_USER']},CN=Users,{ad_base}",
    "adminUpn": f"Administrator@{realm}", "adminPassword": e["AD_ADMIN_PW"],
    "userFilter": "(sAMAccountName={{username}})",
    "adminGroupDn": f"CN=PortcullisAdmins,CN=Users,{ad_base}",
    "appUsersGroupDn": f"CN=AppUsers,CN=Users,{ad_base}",
    "kdc": "127.0.0.1:88",
    "krb5Conf": f"{A}/krb5.conf",
    "keytab": f"{A}/http.keytab",
    "servicePrincipal": f"HTTP/localhost@{realm}",
    "ccache": f"{A}/ccache",
    "ccachePrincipal": f"alice@{realm}",
    "users": {
      "alice": ad_user("alice", "Passw0rd!Alice", groups=["AppUsers"]),
      "bob": ad_user("bob", "Passw0rd!Bob"),
      "carol": ad_user("carol", "Passw0rd!Carol", groups=["PortcullisAdmins"]),
      "disabled1": ad_user("disabled1", "Passw0rd!Dis1", expectedBindDataCode="533"),
      "mustchange1": ad_user("mustchange1", "Passw0rd!Must1", expectedBindDataCode="773"),
      "expired1": ad_user("expired1", "Passw0rd!Exp1", expectedBindDataCode="701"),
    },
    "wrongPasswordDataCode": "52e",
    "pidFile": f"{A}/samba.pid",
    "logFile": f"{A}/samba.log",
  },
  "mitKdc": {
    "realm": e["MIT_REALM"],
    "kdc": f"127.0.0.1:{e['MIT_PORT']}",
    "krb5Conf": f"{M}/krb5.conf",
    "kdcConf": f"{M}/kdc.conf",
    "keytab": f"{M}/http.keytab",
    "servicePrincipal": f"HTTP/localhost@{e['MIT_REALM']}",
    "ccache": f"{M}/ccache",
    "ccachePrincipal": f"alice@{e['MIT_REALM']}",
    "users": {"alice": {"principal": f"alice@{e['MIT_REALM']}", "password": "alicepass"},
              "bob": {"principal": f"bob@{e['MIT_REALM']}", "password": "bobpass"}},
    "pidFile": f"{M}/kdc.pid",
    "logFile": f"{M}/kdc.log",
  },
  "postgres": {
    "url": f"postgres://{e['PG_APP_USER']}:{e['PG_APP_PW']}@127.0.0.1:{e['PG_PORT']}/{e['PG_DB']}",
    "adminUrl": f"postgres://postgres:{e['PG_ADMIN_PW']}@127.0.0.1:{e['PG_PORT']}/postgres",
    "host": "127.0.0.1", "port": int(e["PG_PORT"]),
    "user": e["PG_APP_USER"], "password": e["PG_APP_PW"], "database": e["PG_DB"],
    "pidFile": f"{P}/data/postmaster.pid",
    "logFile": f"{P}/postgres.log",
  },
  "chromium": {"path": e["CHROMIUM"]},
}
tmp = f"{S}/env.json.tmp"
with open(tmp, "w") as f:
    json.dump(env, f, indent=2); f.write("\n")
os.replace(tmp, f"{S}/env.json")

def snake(k):
    out = ""
    for ch in k:
        out += ("_" + ch) if ch.isupper() else ch.upper()
    return out.upper()
lines = ["# generated by scripts/test-servers/up.sh -- source it: . .test-env/env.sh",
         f"export PORTCULLIS_TEST_ENV_DIR={shlex.quote(S)}",
         f"export PORTCULLIS_TEST_ENV_JSON={shlex.quote(S + '/env.json')}"]
for sec, vals in env.items():
    if not isinstance(vals, dict):
        continue
    for k, v in vals.items():
        if isinstance(v, (dict, list)):
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        lines.append(f"export PORTCULLIS_TEST_{snake(sec)}_{snake(k)}={shlex.quote(str(v))}")
tmp = f"{S}/env.sh.tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(tmp, f"{S}/env.sh")
PY

T1=$(date +%s%N)
log "all test servers up in $(( (T1 - T0) / 1000000 )) ms; env: $STATE/env.json and $STATE/env.sh"
if ((VERIFY)); then "$TS_DIR/verify.sh"; fi
