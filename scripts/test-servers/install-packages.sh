#!/usr/bin/env bash
# Installs the Debian packages the tests need (slapd, MIT KDC, Samba AD DC,
# PostgreSQL, Chromium), but only when something is missing: a second run costs ~0.05 s.
#
#   scripts/test-servers/install-packages.sh            # install what is missing
#   scripts/test-servers/install-packages.sh --check    # exit 1 (and list) if something is missing
#
# Pitfalls seen on Debian 12:
#  * With --no-install-recommends, `samba-ad-provision` (only a Recommends of samba/samba-ad-dc)
#    is NOT installed and `samba-tool domain provision` fails with
#    "File [.../ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf] not found". We list it.
#  * `samba` alone provisions but dies at start ("winbindd: Failed to exec child"): needs
#    samba-ad-dc + winbind.
#  * libkrb5-dev must be present before `npm install` (npm `kerberos` native build).
#  * Package postinst scripts try to start system daemons (slapd on :389 would collide with
#    Samba AD). When no /usr/sbin/policy-rc.d exists we put a temporary "exit 101" one in place
#    for the duration of the install (standard Debian mechanism, removed again afterwards).
set -euo pipefail

PACKAGES=(slapd ldap-utils krb5-kdc krb5-admin-server krb5-user libkrb5-dev postgresql
          samba samba-ad-dc samba-ad-provision winbind chromium openssl procps python3
          docker-compose fonts-ipafont-gothic)

# binaries (absolute path or name for command -v) -> package providing it
declare -A BIN_PKG=(
  [/usr/sbin/slapd]=slapd [/usr/sbin/slapadd]=slapd [/usr/sbin/slappasswd]=slapd
  [ldapsearch]=ldap-utils [ldapadd]=ldap-utils [ldapmodify]=ldap-utils
  [/usr/sbin/krb5kdc]=krb5-kdc [/usr/sbin/kdb5_util]=krb5-kdc [/usr/sbin/kadmin.local]=krb5-admin-server
  [kinit]=krb5-user [klist]=krb5-user [kvno]=krb5-user
  [/usr/sbin/samba]=samba [samba-tool]=samba [/usr/sbin/winbindd]=winbind
  [/usr/bin/chromium]=chromium [openssl]=openssl
  [psql]=postgresql [ps]=procps [flock]=util-linux [setsid]=util-linux [runuser]=util-linux
  [/usr/bin/python3]=python3
  # compose file validation (docker-compose v1 `config -q`; no engine needed)
  [/usr/bin/docker-compose]=docker-compose
)

missing=()
for b in "${!BIN_PKG[@]}"; do
  if [[ $b == /* ]]; then [[ -x $b ]] || missing+=("${BIN_PKG[$b]}")
  else command -v "$b" >/dev/null 2>&1 || missing+=("${BIN_PKG[$b]}"); fi
done
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# packages without a distinctive binary: ask dpkg (one call for all of them)
# (fonts-ipafont-gothic: a Japanese font, so the browser tests' screenshots of Japanese pages are legible)
for p in samba-ad-dc samba-ad-provision libkrb5-dev fonts-ipafont-gothic; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $st == "install ok installed" ]] || missing+=("$p")
done
[[ -f /usr/include/gssapi/gssapi.h ]] || missing+=(libkrb5-dev)

if ((${#missing[@]} == 0)); then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [[ ${1:-} == --check ]]; then
  echo "install-packages: missing packages: ${missing[*]}" >&2
  exit 1
fi
echo "install-packages: installing ${missing[*]} (apt-get update + install)" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "install-packages: must run as root to apt-get install: ${missing[*]}" >&2
  exit 1
fi

created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -o DPkg::Lock::Timeout=600 -qq
# Install the whole set (already-installed ones are no-ops) so dependencies stay consistent.
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${PACKAGES[@]}"
echo "install-packages: done" >&2
