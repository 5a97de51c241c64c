#!/usr/bin/env bash
# Installs what building, running and testing the desktop console needs on Debian: WebKitGTK and GTK
# development files, Node.js and npm, the UI's npm packages, and — for the window tests — Xvfb,
# WebKitWebDriver and tauri-driver. Idempotent. Sourced by run.sh, test.sh and .ci/run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev libssl-dev libdbus-1-dev file)
# The window tests, and the HTTP API's browser test (headless Chromium over chromedriver).
[ "${WARDEN_WINDOW_TESTS:-0}" = "1" ] && pkgs+=(xvfb xauth webkit2gtk-driver dbus-x11 at-spi2-core x11-utils fonts-dejavu-core chromium chromium-driver)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-console: installing ${missing[*]} with apt"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# `npm ci` refuses this lockfile with npm 11 (the Tauri CLI's other-platform packages); `npm install`
# installs exactly the locked versions and leaves the lockfile unchanged.
(cd "$root/ui" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

if [ "${WARDEN_WINDOW_TESTS:-0}" = "1" ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup-console: installing tauri-driver with cargo"
  cargo install tauri-driver --locked --version "^2" >/dev/null 2>&1
fi
