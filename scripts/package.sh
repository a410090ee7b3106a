#!/usr/bin/env bash
# Builds a Debian package of Campaign Safe with dpkg-deb (Debian's own packaging tool), so
# no tauri-cli build is needed here or in CI.
#   scripts/package.sh                   a release build (what `make package` runs)
#   scripts/package.sh --binary PATH    packages a binary already built (the tests use the
#                                        debug binary `cargo test` built, to save a rebuild)
# The last line printed is the path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=
case "${1:-}" in
  "") ;;
  --binary) binary=${2:?--binary needs a path} ;;
  *) echo "usage: $0 [--binary PATH]" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ -z "$binary" ]; then
  say "Building the release binary"
  cargo build --locked --release --features custom-protocol >&2
  binary=target/release/campaign-safe
fi
[ -x "$binary" ] || { echo "no program at $binary" >&2; exit 1; }

name=campaign-safe
identifier=$(sed -n 's/^ *"identifier": "\(.*\)",$/\1/p' tauri.conf.json)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
out=target/package
root=$out/root
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/512x512/apps" "$root/usr/share/doc/$name"

# Debug information is not needed to run the app (and is most of a debug binary's size).
objcopy --strip-debug "$binary" "$root/usr/bin/$name"
chmod 755 "$root/usr/bin/$name"
install -m 644 "packaging/$identifier.desktop" "$root/usr/share/applications/$identifier.desktop"
install -m 644 src-tauri/icons/icon.png "$root/usr/share/icons/hicolor/512x512/apps/$identifier.png"
install -m 644 README.md "$root/usr/share/doc/$name/README.md"

# The libraries the program links to, as Debian package dependencies.
shlibs=$out/shlibs
rm -rf "$shlibs" && mkdir -p "$shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" > "$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O -e "$OLDPWD/$root/usr/bin/$name" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# A program linked with packed relocations (src-tauri/build.rs) needs the loader of glibc
# 2.36; dpkg-shlibdeps reads only the symbols it uses, so it would ask for less.
if objdump -p "$root/usr/bin/$name" | grep -q GLIBC_ABI_DT_RELR; then
  depends=$(sed -E 's/libc6 \(>= [0-9.]+\)/libc6 (>= 2.36)/' <<<"$depends")
fi

cat > "$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: Campaign Safe developers <campaign-safe@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: utils
Priority: optional
Description: Safety companion for election candidates and canvassing teams
 Check-ins with alarms shared across a team over Matrix, a tamper-evident
 incident log for the police, and SOS guides for each phone and watch.
CONTROL

deb=$out/${name}_${version}_${arch}.deb
# Quick compression for a test build; the release package gets the usual xz.
if [ "$binary" = target/release/campaign-safe ]; then level=(-Zxz); else level=(-Zgzip -z1); fi
dpkg-deb --root-owner-group "${level[@]}" --build "$root" "$deb" >&2
say "Package: $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
