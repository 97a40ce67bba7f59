#!/usr/bin/env bash
# The README's test command (`npm test` runs this script): installs what the tests need (Debian packages, npm
# dependencies), builds, lints, starts the real test servers on loopback
# (OpenLDAP, Samba AD DC, MIT KDC, PostgreSQL), runs every test, and stops the
# servers again. Nothing is skipped because a server is missing.
#
#   scripts/test.sh                 everything
#   PORTCULLIS_TEST_KEEP_SERVERS=1  leave the test servers running afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-}"
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

step "Debian packages"
bash scripts/test-servers/install-packages.sh

step "npm dependencies"
# Installing rebuilds native modules (~2 min); skip it when node_modules matches the lockfile.
# (npm install, not npm ci: npm 11.19 writes lockfiles without other platforms' optional
# packages, e.g. @swc/core-darwin-*, and its own `npm ci` then rejects them as out of sync.)
if [ ! -f node_modules/.portcullis-lock ] || ! cmp -s package-lock.json node_modules/.portcullis-lock; then
  npm install --no-audit --no-fund
  cp package-lock.json node_modules/.portcullis-lock
fi

step "build and lint"
npm run build
npm run lint

step "test servers"
if [ -z "${PORTCULLIS_TEST_KEEP_SERVERS:-}" ]; then trap 'bash scripts/test-servers/down.sh >/dev/null 2>&1 || true' EXIT; fi
bash scripts/test-servers/up.sh

summary=$(mktemp)
export PORTCULLIS_TEST_SUMMARY_FILE="$summary"
status=0
run() { # label, jest args...
  local label=$1; shift
  step "$label"
  npx jest --ci "$@" || status=1
}
run "tests (SQLite): unit, integration, end-to-end, browser" --maxWorkers=2 test/unit test/integration test/e2e test/browser src
run "tests against real servers (slapd, Samba AD, Kerberos, PostgreSQL)" --runInBand test/infra
PORTCULLIS_TEST_DB=postgres run "integration tests again on PostgreSQL" --maxWorkers=2 test/integration

step "done"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const sum = (k) => lines.reduce((n, l) => n + l[k], 0);
console.log(`Tests: ${sum("passed")} passed, ${sum("failed")} failed, ${sum("skipped")} skipped`);
' "$summary"
exit $status
