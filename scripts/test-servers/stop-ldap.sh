#!/usr/bin/env bash
# Stop only slapd (for "directory down mid-run" tests). Data and certificates stay; bring it
# back with start-ldap.sh. Requires a previous up.sh. Safe to run twice.
set -euo pipefail
TS_NAME=stop-ldap
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
take_lock
"$TS_DIR/ldap.sh" stop 9>&-   # the daemon must not inherit the lock fd
