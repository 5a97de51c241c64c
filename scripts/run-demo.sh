#!/usr/bin/env bash
# Builds Warden and shows it on the embedded demo database: creates ./warden-demo.db (SQLite) with the
# demo data set on first run and prints the demo credentials, then shows users, the locked accounts,
# the policy, the newest audit events and the audit chain check through the `warden` CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

cargo build --release --locked -p warden-cli
warden=target/release/warden
db="sqlite://$(pwd)/warden-demo.db"
export WARDEN_DB="$db"
if [ ! -f warden-demo.db ]; then
  $warden migrate
  $warden demo --users "${WARDEN_DEMO_USERS:-2000}"
else
  echo "Using the existing demo database warden-demo.db (delete it to start over)."
fi
echo; echo "== Users (newest first) =="; $warden users list --limit 10
echo; echo "== Locked accounts =="; $warden users list --locked --limit 10
echo; echo "== Policy in force =="; $warden policy show
echo; echo "== Newest audit events =="; $warden audit list --limit 10
echo; echo "== Audit chain =="; $warden audit verify
echo
echo "Try: WARDEN_DB=$db $warden users show support@warden.demo"
