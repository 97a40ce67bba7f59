#!/usr/bin/env bash
# Stop every test server started by up.sh, by the PIDs in the state dir's pid files (Samba: its
# whole process group). Data, certificates and logs stay in the state dir; nothing outside it is
# touched. Safe to run twice or when nothing is running.
set -euo pipefail
TS_NAME=down
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
take_lock
rc=0
for s in ldap mit-kdc postgres samba-ad; do
  "$TS_DIR/$s.sh" stop 9>&- || { log "stopping $s failed"; rc=1; }
done
rm -f "$STATE/env.json" "$STATE/env.sh"
log "all test servers stopped (state kept in $STATE)"
exit $rc
