#!/usr/bin/env bash
# Builds Warden's Linux installers: target/release/bundle/deb/warden_<version>_amd64.deb and
# target/release/bundle/rpm/warden-<version>-1.x86_64.rpm. One package holds the desktop console
# (/usr/bin/warden-console, its desktop entry and icons), the `warden` command line and `warden-server`
# with its systemd unit and sample configuration (docs/PACKAGING.md). The version is the workspace's (Cargo.toml [workspace.package]).
#
# Release build, size-tuned profile (fat LTO, one codegen unit): expect tens of minutes on 2 cores.
# Works offline once the cargo and npm dependencies are present.
#
#   scripts/package.sh                 # builds the UI, the binaries and both packages
#   WARDEN_PACKAGE_SKIP_UI=1 …         # keep the ui/dist already built (it is embedded in the console)
#   WARDEN_PACKAGE_SERVER=0 …          # leave warden-server out
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
source scripts/setup-console.sh

stamp() { date +%s; }
t_start=$(stamp)

version=$(cargo metadata --no-deps --format-version 1 --locked |
  jq -r '.packages[] | select(.name == "warden-console") | .version')
has_server=$(cargo metadata --no-deps --format-version 1 --locked |
  jq -r '[.packages[] | select(.name == "warden-server")] | length')

if [ "${WARDEN_PACKAGE_SKIP_UI:-0}" = "1" ] && [ -f ui/dist/index.html ]; then
  echo "package: keeping the UI already built in ui/dist"
else
  echo "package: building the UI (ui/dist)"
  (cd ui && npm run build >/dev/null)
fi

bins=(-p warden-cli)
tauri_configs=()
if [ "${WARDEN_PACKAGE_SERVER:-auto}" = "0" ] && [ "$has_server" = "1" ]; then
  has_server=0
  echo "package: NOTE: WARDEN_PACKAGE_SERVER=0: the package is built WITHOUT warden-server"
elif [ "$has_server" = "1" ]; then
  bins+=(-p warden-server)
  tauri_configs+=(--config "$root/packaging/tauri.server.conf.json")
  echo "package: warden-server is in the workspace: packaging it with its systemd unit and sample config"
elif [ "$has_server" = "0" ]; then
  echo "package: NOTE: crates/warden-server is not in the workspace yet: the package is built WITHOUT"
  echo "package:       warden-server, its systemd unit and its sample configuration"
fi

echo "package: cargo build --release ${bins[*]}"
t=$(stamp)
cargo build --release --locked "${bins[@]}"
t_bins=$(( $(stamp) - t ))

echo "package: tauri build --bundles deb,rpm (warden-console, release)"
bundle="$root/target/release/bundle"
rm -rf "$bundle/deb" "$bundle/rpm"
t=$(stamp)
# The UI is built above; the bundler's own beforeBuildCommand is switched off so it is not built twice.
(cd src-tauri && CI=true "$root/ui/node_modules/.bin/tauri" build --ci --bundles deb,rpm \
  --config '{"build":{"beforeBuildCommand":""}}' "${tauri_configs[@]}" -- --locked)
t_console=$(( $(stamp) - t ))

# The bundler names the files after productName ("Warden"); the packages themselves are named `warden`.
deb_src=$(ls "$bundle"/deb/*.deb)
rpm_src=$(ls "$bundle"/rpm/*.rpm)
deb="$bundle/deb/warden_${version}_amd64.deb"
rpm="$bundle/rpm/warden-${version}-1.x86_64.rpm"
[ "$deb_src" = "$deb" ] || mv "$deb_src" "$deb"
[ "$rpm_src" = "$rpm" ] || mv "$rpm_src" "$rpm"

# The bundler compresses the .deb with gzip; Debian's own packages use xz, which halves it (15.6 → 7.4 MB
# on 2026-12-02: three release binaries compress far better with xz). Repacked as root:root, contents
# and maintainer scripts unchanged.
t=$(stamp)
repack=$(mktemp -d)
dpkg-deb -R "$deb" "$repack/root"
dpkg-deb --root-owner-group -Zxz -z9 -b "$repack/root" "$deb" >/dev/null
rm -rf "$repack"
echo "package: the .deb recompressed with xz in $(( $(stamp) - t )) s"

deb_name=$(dpkg-deb -f "$deb" Package)
[ "$deb_name" = "warden" ] || { echo "package: the .deb is named '$deb_name', expected 'warden'" >&2; exit 1; }
listing=$(dpkg-deb -c "$deb")
for f in /usr/bin/warden-console /usr/bin/warden; do
  grep -qE " (\./)?${f#/}\$" <<<"$listing" || { echo "package: $f is missing from the .deb" >&2; exit 1; }
done
if [ "$has_server" = "1" ]; then
  grep -qE ' (\./)?usr/bin/warden-server$' <<<"$listing" || { echo "package: warden-server is missing" >&2; exit 1; }
fi

echo
echo "package: built in $(( $(stamp) - t_start )) s (CLI/server ${t_bins} s, console and bundles ${t_console} s)"
ls -l "$deb" "$rpm" | awk '{printf "package:   %s  %.1f MiB\n", $NF, $5/1048576}'
echo "package: install with: sudo apt install $deb"
