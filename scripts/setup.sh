#!/usr/bin/env bash
# Installs what Campaign Safe needs on Debian/Ubuntu, and nothing that is already there.
#   scripts/setup.sh run    what building and running the app needs
#   scripts/setup.sh test   that, plus what the tests need (Xvfb, WebKitWebDriver, tauri-driver)
set -euo pipefail

TAURI_DRIVER_VERSION=2.1.0
RUN_PACKAGES=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev curl file)
TEST_PACKAGES=(xvfb webkit2gtk-driver dbus-daemon imagemagick xdotool)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

mode=${1:-run}
case "$mode" in
  run) packages=("${RUN_PACKAGES[@]}") ;;
  test) packages=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "Campaign Safe needs a Rust toolchain (cargo). Install it from https://rustup.rs and run this again." >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  say "Installing system packages: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "System packages for '$mode' are already installed"
fi

if [ "$mode" = test ]; then
  # tauri-driver has no --version flag; cargo's own record says what is installed.
  if cargo install --list 2>/dev/null | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
    say "tauri-driver $TAURI_DRIVER_VERSION is already installed"
  else
    say "Installing tauri-driver $TAURI_DRIVER_VERSION (cargo install, about a minute)"
    cargo install "tauri-driver@$TAURI_DRIVER_VERSION" --locked --quiet
  fi
fi
