#!/usr/bin/env bash
# Builds the Warden console and starts it. On its first screen, "Open the demo database" creates and
# fills the embedded demo database (SQLite, in the app's data folder) and shows the demo sign-ins.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-console.sh

(cd ui && npm run build)
cargo build --release --locked -p warden-console -p warden-cli
exec target/release/warden-console "$@"
