#!/usr/bin/env bash
# Start slapd again after stop-ldap.sh, with the same data, config and certificates; returns
# once both ports (3389, 3636) accept connections. No-op if it is already running.
set -euo pipefail
TS_NAME=start-ldap
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
take_lock
"$TS_DIR/ldap.sh" start 9>&-   # the daemon must not inherit the lock fd
