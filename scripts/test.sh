#!/usr/bin/env bash
# Runs every test of Warden: the engine on SQLite and PostgreSQL, and the CLI.
# Uses WARDEN_TEST_POSTGRES_URL when set; otherwise starts a throwaway PostgreSQL cluster of its own
# (installing the server if absent) and stops it afterwards. Fails if the PostgreSQL suite did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

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

log="$(mktemp)"
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

sqlite_ok=$(grep -cE '::sqlite \.\.\. ok$' "$log" || true)
pg_ok=$(grep -cE '::postgres \.\.\. ok$' "$log" || true)
rm -f "$log"
echo
echo "================ backends ================"
echo "  SQLite     : ${sqlite_ok} tests passed"
echo "  PostgreSQL : ${pg_ok} tests passed"
echo "=========================================="
if [ "$status" -ne 0 ]; then
  echo "test: FAILED" >&2
  exit "$status"
fi
if [ "$pg_ok" -eq 0 ] || [ "$sqlite_ok" -eq 0 ]; then
  echo "test: FAILED — a backend's suite did not run" >&2
  exit 1
fi
echo "test: all passed on SQLite and PostgreSQL"
