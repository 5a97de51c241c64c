#!/usr/bin/env bash
# The install test: builds the .deb (scripts/package.sh), checks its metadata and that its declared
# dependencies cover every shared library its binaries load, installs it into THIS machine with apt,
# starts the installed /usr/bin/warden-console under Xvfb (driven over WebDriver by tauri-driver) against
# its demo database, checks the window (xdotool, xwininfo), signs in to the demo, takes screenshots
# (artifacts/screenshots/package-*.png), measures first paint and idle memory, runs `warden --version`
# and `warden-server --help` from /usr/bin, then `apt remove`s the package and checks that nothing of it
# is left running and the binaries are gone, and that the user's data is kept; last, `apt purge`.
#
# Needs root (or sudo) and apt. Apart from scripts/test.sh because the release build is long.
#   scripts/test-package.sh                     # builds, then tests
#   WARDEN_PACKAGE_DEB=path/to.deb scripts/test-package.sh   # tests a package already built
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
say() { echo "test-package: $*"; }
ms() { date +%s%3N; }

deb="${WARDEN_PACKAGE_DEB:-}"
if [ -z "$deb" ]; then
  scripts/package.sh
  deb=$(ls "$root"/target/release/bundle/deb/warden_*_amd64.deb)
fi
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
[ -f "$deb" ] || fail "no package at $deb"
version=$(dpkg-deb -f "$deb" Version)
[ "$(basename "$deb")" = "warden_${version}_amd64.deb" ] || fail "file name $(basename "$deb") is not warden_${version}_amd64.deb"

# What the GUI part needs (not the package: it must bring its own dependencies).
tools=(xvfb xauth x11-utils xdotool imagemagick webkit2gtk-driver curl jq dpkg-dev desktop-file-utils)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing the test's tools: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
tauri_driver="${TAURI_DRIVER:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}"
[ -x "$tauri_driver" ] || { say "installing tauri-driver with cargo"; cargo install tauri-driver --locked --version "^2" >/dev/null 2>&1; tauri_driver="$HOME/.cargo/bin/tauri-driver"; }

work=$(mktemp -d)
xvfb_pid=""; driver_pid=""
cleanup() {
  [ -z "$driver_pid" ] || kill "$driver_pid" 2>/dev/null || true
  [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the package's metadata -------------------------------------------------------------------
say "checking $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
for field in Package Version Architecture Depends Description Homepage Section; do
  value=$(dpkg-deb -f "$deb" "$field")
  [ -n "$value" ] || fail "the control field $field is empty"
  say "  $field: ${value%%$'\n'*}"
done
[ "$(dpkg-deb -f "$deb" Package)" = "warden" ] || fail "the package is not named warden"
[ "$(dpkg-deb -f "$deb" Architecture)" = "amd64" ] || fail "the package is not amd64"
mkdir -p "$work/x" && dpkg-deb -x "$deb" "$work/x"
for f in usr/bin/warden-console usr/bin/warden usr/share/applications/Warden.desktop; do
  [ -e "$work/x/$f" ] || fail "/$f is not in the package"
done
server=0; [ -e "$work/x/usr/bin/warden-server" ] && server=1
for size in 16x16 24x24 32x32 48x48 64x64 128x128 256x256 512x512; do
  [ -f "$work/x/usr/share/icons/hicolor/$size/apps/warden-console.png" ] || fail "no $size icon"
done
desktop-file-validate "$work/x/usr/share/applications/Warden.desktop" || fail "the desktop entry is invalid"
grep -q '^Categories=System;Security;$' "$work/x/usr/share/applications/Warden.desktop" || fail "desktop category"
say "  icons 16–512 px, desktop entry valid (Categories=System;Security;)"
if [ "$server" = "1" ]; then
  for f in usr/lib/systemd/system/warden-server.service usr/lib/systemd/system/warden-enforce.service usr/share/warden/server.toml; do
    [ -e "$work/x/$f" ] || fail "/$f is not in the package"
  done
  say "  warden-server, its systemd unit, the enforce sweeper's unit and the sample configuration are in the package"
else
  say "  NOTE: this package does not hold warden-server (built without it)"
fi

# Every shared library the binaries load must come from a package the declared Depends pull in.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep -v '^$')
# shellcheck disable=SC2086
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $depends 2>/dev/null | sed -n 's/^  *|\{0,1\}\(Pre\)\{0,1\}Depends: //p; /^[a-z0-9]/p' |
  sed 's/[<>]//g; s/:any$//; s/:amd64$//' | sort -u)
needed=""
libs=$(for bin in "$work"/x/usr/bin/*; do ldd "$bin" | awk '/=> \//{print $3}'; done | sort -u)
for bin in "$work"/x/usr/bin/*; do
  missing_libs=$(ldd "$bin" | grep "not found" || true)
  [ -z "$missing_libs" ] || fail "$(basename "$bin"): $missing_libs"
done
for lib in $libs; do
  {
    pkg=""
    for candidate in "$lib" "$(readlink -f "$lib")" "${lib#/usr}" "/usr$lib"; do
      pkg=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 || true)
      [ -z "$pkg" ] || break
    done
    [ -n "$pkg" ] || fail "the binaries load $lib, which no Debian package provides"
    needed+="$pkg"$'\n'
  }
done
needed=$(echo "$needed" | grep -v '^$' | sort -u)
for pkg in $needed; do
  grep -qx "$pkg" <<<"$closure" || fail "the binaries need $pkg, which the declared Depends ($depends) do not pull in"
done
say "  Depends ($(echo $depends | tr ' ' ',')) pull in all $(echo "$needed" | wc -l) packages the binaries link to"

# ---- install ------------------------------------------------------------------------------------
if dpkg-query -W -f='${Status}' warden 2>/dev/null | grep -q "installed"; then
  say "a warden package is already installed: purging it first"
  $SUDO apt-get purge -y -qq warden >/dev/null
fi
say "apt install $deb"
$SUDO apt-get install -y -qq "$deb" >/dev/null || fail "apt could not install the package"
dpkg-query -W -f='${Status}' warden | grep -q "install ok installed" || fail "warden is not installed"
installed_kib=$(dpkg-query -W -f='${Installed-Size}' warden)
for f in /usr/bin/warden-console /usr/bin/warden; do [ -x "$f" ] || fail "$f is not installed"; done

cli_version=$(/usr/bin/warden --version)
[ "$cli_version" = "warden $version" ] || fail "warden --version says '$cli_version', expected 'warden $version'"
say "/usr/bin/warden --version: $cli_version"
/usr/bin/warden --db "sqlite://$work/cli-demo.db" demo --users 50 --seed 3 >/dev/null 2>&1 || fail "the installed CLI could not fill a demo database"
locked=$(/usr/bin/warden --db "sqlite://$work/cli-demo.db" --json users list --locked | jq '.users | length')
say "/usr/bin/warden demo on SQLite: ok ($locked locked users in the first page)"
if [ "$server" = "1" ]; then
  help=$(/usr/bin/warden-server --help) || fail "warden-server --help failed"
  grep -q -- "--db" <<<"$help" || fail "warden-server --help does not describe --db"
  grep -q -- "--config" <<<"$help" || fail "warden-server --help does not describe --config"
  say "/usr/bin/warden-server --help: ok ($(echo "$help" | head -1))"
  getent passwd warden >/dev/null || fail "the warden system user was not created"
  [ -f /etc/warden/server.toml ] || fail "/etc/warden/server.toml was not installed"
  [ "$(stat -c '%U:%G %a' /var/lib/warden)" = "warden:warden 750" ] || fail "/var/lib/warden: $(stat -c '%U:%G %a' /var/lib/warden)"
  # verify prints (and does not fail on) unknown keys and bad values: any line naming the unit is one.
  for unit in warden-server warden-enforce; do
    problems=$(systemd-analyze verify "/usr/lib/systemd/system/$unit.service" 2>&1 | grep "$unit.service" || true)
    [ -z "$problems" ] || fail "systemd-analyze verify: $problems"
  done
  # The sample configuration is one the server reads (here with an http origin it must refuse).
  out=$(timeout 10 /usr/bin/warden-server --config /etc/warden/server.toml --origin http://x.example 2>&1 || true)
  grep -qi "https\|production" <<<"$out" || fail "warden-server did not read the sample config as expected: $out"
  say "system user warden, /etc/warden/server.toml, /var/lib/warden (warden:warden 750), unit verified"
fi

# ---- the installed console under Xvfb -----------------------------------------------------------
d=90; while [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ]; do d=$((d + 1)); done
Xvfb ":$d" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
export DISPLAY=":$d"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
data="$work/console-data"; mkdir -p "$data"
port=$(( 20000 + RANDOM % 20000 )); native=$(( port + 1 ))
WARDEN_CONSOLE_DATA_DIR="$data" WARDEN_DEMO_USERS=300 "$tauri_driver" --port "$port" --native-port "$native" >/dev/null 2>"$work/driver.log" &
driver_pid=$!
wd="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -s "$wd/status" >/dev/null 2>&1 && break; sleep 0.1; done

t0=$(ms)
sid=$(curl -sf -X POST "$wd/session" -H 'content-type: application/json' -d '{"capabilities":{"alwaysMatch":{"browserName":"wry","tauri:options":{"application":"/usr/bin/warden-console"}}}}' |
  jq -r '.value.sessionId') || fail "tauri-driver could not start /usr/bin/warden-console: $(cat "$work/driver.log")"
[ -n "$sid" ] && [ "$sid" != "null" ] || fail "no WebDriver session"
s="$wd/session/$sid"
wait_for() { # css selector [timeout seconds] → the element's WebDriver id
  local css="$1" until=$(( $(date +%s) + ${2:-20} )) id
  while [ "$(date +%s)" -lt "$until" ]; do
    id=$(curl -s -X POST "$s/element" -H 'content-type: application/json' \
      -d "$(jq -nc --arg c "$css" '{using:"css selector",value:$c}')" |
      jq -r '.value["element-6066-11e4-a52e-4f735466cecf"] // empty' 2>/dev/null) || true
    if [ -n "$id" ]; then echo "$id"; return 0; fi
    sleep 0.05
  done
  return 1
}
click() { curl -sf -X POST "$s/element/$(wait_for "[data-testid='$1']")/click" -H 'content-type: application/json' -d '{}' >/dev/null || fail "click $1"; }
fill() { curl -sf -X POST "$s/element/$(wait_for "[data-testid='$1']")/value" -H 'content-type: application/json' -d "$(jq -nc --arg t "$2" '{text:$t}')" >/dev/null || fail "type into $1"; }
text() { curl -sf "$s/element/$(wait_for "[data-testid='$1']")/text" | jq -r '.value'; }
shot() { curl -sf "$s/screenshot" | jq -r '.value' | base64 -d > "$1"; }

wait_for "[data-testid='open-demo']" 30 >/dev/null || fail "the connect screen did not appear"
first_paint=$(( $(ms) - t0 ))
say "the installed console painted its connect screen $first_paint ms after the WebDriver session was asked for"

wid=$(xdotool search --onlyvisible --name '^Warden' | head -1) || true
[ -n "$wid" ] || fail "no visible window named Warden"
pid=$(xdotool getwindowpid "$wid")
[ "$(readlink -f "/proc/$pid/exe")" = "/usr/bin/warden-console" ] || fail "the Warden window belongs to $(readlink -f "/proc/$pid/exe")"
geom=$(xwininfo -id "$wid" | awk '/Width:/{w=$2} /Height:/{h=$2} /Map State:/{m=$3} END{print w "x" h " " m}')
[ "${geom##* }" = "IsViewable" ] || fail "the window is not viewable ($geom)"
say "window $wid of /usr/bin/warden-console (pid $pid): $geom"

mkdir -p artifacts/screenshots
click open-demo
wait_for "[data-testid='demo-credentials']" 60 >/dev/null || fail "the demo database did not open"
[ -f "$data/demo.db" ] || fail "the demo database was not created in WARDEN_CONSOLE_DATA_DIR"
email=$(text cred-support-email); password=$(text cred-support-password)
click continue-sign-in
fill email "$email"; fill password "$password"
click sign-in
wait_for "[data-testid='overview-active']" 30 >/dev/null || fail "signing in to the demo did not show the overview"
say "signed in: the overview shows $(text overview-active) active sessions and $(text overview-open-flags-count) open flags"
shot artifacts/screenshots/package-overview.png
click nav-users
wait_for "[data-testid='user-row']" 30 >/dev/null || fail "the users screen of the demo shows no users"
rows=$(curl -s -X POST "$s/elements" -H 'content-type: application/json' -d '{"using":"css selector","value":"[data-testid=user-row]"}' | jq '.value | length')
say "signed in to the demo database as $email: $rows user rows shown"
sleep 5
# PSS (as src-tauri/tests/window/support.rs pss_mib) of the app and its process tree: the WebKit web and
# network processes are its children. The tree, not names, so other consoles on the machine do not count.
tree=" $pid "; grew=1
while [ "$grew" = 1 ]; do
  grew=0
  for p in /proc/[0-9]*; do
    n=${p#/proc/}
    case "$tree" in *" $n "*) continue ;; esac
    ppid=$(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f2) || continue
    case "$tree" in *" $ppid "*) tree="$tree$n "; grew=1 ;; esac
  done
done
pss_kib=0; procs=""
for n in $tree; do
  kib=$(awk '/^Pss:/{print $2}' "/proc/$n/smaps_rollup" 2>/dev/null || echo 0)
  pss_kib=$(( pss_kib + ${kib:-0} ))
  procs+="$(cat "/proc/$n/comm" 2>/dev/null) "
done
say "processes of the app: $procs"
say "idle PSS of the app and its WebKit processes: $(( pss_kib / 1024 )) MiB"
shot artifacts/screenshots/package-installed-users.png
import -window root artifacts/screenshots/package-installed-desktop.png
say "screenshots: artifacts/screenshots/package-overview.png, package-installed-users.png, package-installed-desktop.png"
curl -sf -X DELETE "$s" >/dev/null || true
kill "$driver_pid" 2>/dev/null || true; wait "$driver_pid" 2>/dev/null || true; driver_pid=""
for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
[ ! -e "/proc/$pid" ] || kill "$pid" 2>/dev/null || true

# ---- remove, then purge -------------------------------------------------------------------------
say "apt remove warden"
$SUDO apt-get remove -y -qq warden >/dev/null || fail "apt could not remove the package"
for f in /usr/bin/warden-console /usr/bin/warden /usr/bin/warden-server /usr/share/applications/Warden.desktop; do
  [ ! -e "$f" ] || fail "$f is still there after apt remove"
done
left=$(ps -eo pid=,args= | grep -E '/usr/bin/warden(-console|-server)?( |$)' | grep -v grep || true)
[ -z "$left" ] || fail "still running after apt remove: $left"
[ -f "$data/demo.db" ] || fail "the user's data ($data/demo.db) did not survive apt remove"
status=$(dpkg-query -W -f='${Status}' warden 2>/dev/null || true)
if [ "$server" = "1" ]; then
  [ "$status" = "deinstall ok config-files" ] || fail "after apt remove the package is '$status'"
  [ -f /etc/warden/server.toml ] && [ -d /var/lib/warden ] && getent passwd warden >/dev/null ||
    fail "apt remove deleted the server's configuration, data or user (only purge may)"
  say "removed: binaries gone, nothing running; user data, /etc/warden, /var/lib/warden and the warden user kept"
  $SUDO apt-get purge -y -qq warden >/dev/null
  [ ! -e /etc/warden ] && [ ! -e /var/lib/warden ] || fail "apt purge left /etc/warden or /var/lib/warden"
  ! getent passwd warden >/dev/null || fail "apt purge left the warden user"
  say "purged: /etc/warden, /var/lib/warden and the warden user gone"
else
  say "removed: binaries gone, nothing running, the user's data kept"
  [ "$status" != "deinstall ok config-files" ] || $SUDO apt-get purge -y -qq warden >/dev/null
fi
status=$(dpkg-query -W -f='${Status}' warden 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = "unknown ok not-installed" ] || fail "after apt purge the package is '$status'"

echo
echo "================ package ================"
echo "  package        : $(basename "$deb"), $(( $(stat -c %s "$deb") / 1024 )) KiB (installed $installed_kib KiB)"
echo "  warden-server  : $([ "$server" = "1" ] && echo packaged || echo "NOT in this package")"
echo "  first paint    : $first_paint ms (WebDriver session start included)"
echo "  idle PSS       : $(( pss_kib / 1024 )) MiB (app + WebKit processes, demo users screen)"
echo "========================================="
say "all passed"
