#!/usr/bin/env bash
# Runs every test of Warden: the UI's lint, type check and unit tests; the engine, the CLI and the HTTP
# API on SQLite and PostgreSQL (with a browser app in headless Chromium, and databases made by the real
# Better Auth and Auth.js); the console's bindings check;
# and the real console window under Xvfb over WebDriver.
# Uses WARDEN_TEST_POSTGRES_URL when set; otherwise starts a throwaway PostgreSQL cluster of its own
# (installing the server if absent) and stops it afterwards. Fails if the PostgreSQL suite did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
export WARDEN_WINDOW_TESTS=1
source scripts/setup-console.sh

echo "test: the auth libraries' fixture (Better Auth, Auth.js; npm, pinned in tests/libraries)"
(cd tests/libraries && npm install --no-audit --no-fund --loglevel=error >/dev/null)

echo "test: UI (lint, type check, unit tests, build)"
(cd ui && npm run lint && npm run check && npm test && npm run build)

pg_dir=""
cleanup() { [ -z "$pg_dir" ] || scripts/pg-throwaway.sh stop "$pg_dir"; }
trap cleanup EXIT

if [ -z "${WARDEN_TEST_POSTGRES_URL:-}" ]; then
  read -r pg_dir url < <(scripts/pg-throwaway.sh)
  export WARDEN_TEST_POSTGRES_URL="$url"
  echo "test: started a throwaway PostgreSQL at $url"
else
  echo "test: using PostgreSQL at $WARDEN_TEST_POSTGRES_URL"
fi
export WARDEN_REQUIRE_POSTGRES=1
export WARDEN_REQUIRE_BROWSER=1
export WARDEN_REQUIRE_LIBRARIES=1

log="$(mktemp)"
set +e
# The window tests need a display and the drivers: they run apart, below.
cargo test --workspace --locked --no-fail-fast --exclude warden-console 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
cargo test --locked -p warden-console --lib 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "test: the console window (Xvfb, tauri-driver, WebKitWebDriver)"
rm -rf artifacts/screenshots
xvfb-run -a -s "-screen 0 1280x800x24" cargo test --locked -p warden-console --test window -- --test-threads=1 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
set -e

sqlite_ok=$(grep -cE '::sqlite \.\.\. ok$' "$log" || true)
pg_ok=$(grep -cE '::postgres \.\.\. ok$' "$log" || true)
# Per suite (tests/<suite>/main.rs): "<suite> <sqlite> <postgres>".
per_suite=$(awk '/Running tests\/[a-z]+\/main.rs/ { match($0, /tests\/[a-z]+\//); suite = substr($0, RSTART + 6, RLENGTH - 7) }
  /::sqlite \.\.\. ok$/ { s[suite]++ } /::postgres \.\.\. ok$/ { p[suite]++ }
  END { for (k in s) printf "    %-12s: %d on SQLite, %d on PostgreSQL\n", k, s[k], p[k] }' "$log" | sort)
# From the window suite's summary line: a scenario's own output (the console's log on stderr) may stand
# between its name and its "ok".
window_ok=$(sed -n '/Running tests\/window/,$p' "$log" | grep -oE '^test result: ok\. [0-9]+ passed' | grep -oE '[0-9]+' | head -1 || true)
window_ok=${window_ok:-0}
rm -f "$log"
echo
echo "================ backends ================"
echo "  SQLite         : ${sqlite_ok} tests passed"
echo "  PostgreSQL     : ${pg_ok} tests passed"
echo "$per_suite"
echo "  Console window : ${window_ok} scenarios passed (screenshots in artifacts/screenshots)"
echo "=========================================="
if [ "$status" -ne 0 ]; then
  echo "test: FAILED" >&2
  exit "$status"
fi
if [ "$pg_ok" -eq 0 ] || [ "$sqlite_ok" -eq 0 ] || [ "$window_ok" -eq 0 ]; then
  echo "test: FAILED — a suite did not run" >&2
  exit 1
fi
echo "test: all passed"
