#!/usr/bin/env bash
# Installs what Campaign Safe needs on Debian/Ubuntu, and nothing that is already there.
#   scripts/setup.sh run    what building and running the app needs
#   scripts/setup.sh test   that, plus what the tests need (Xvfb, WebKitWebDriver, tauri-driver)
#   scripts/setup.sh package  what building the .deb needs
set -euo pipefail

TAURI_DRIVER_VERSION=2.1.0
# The real Matrix server the team-relay tests run against, in a venv kept between runs.
SYNAPSE_VERSION=1.163.2
SYNAPSE_VENV="${CAMPAIGN_SAFE_SYNAPSE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/campaign-safe/synapse-$SYNAPSE_VERSION}"
# axe-core, the accessibility checker the window tests run on every screen (from npm).
AXE_VERSION=4.10.3
AXE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/campaign-safe/axe-core-$AXE_VERSION"
case "$SYNAPSE_VENV" in
  *"$SYNAPSE_VERSION") ;;
  *) echo "CAMPAIGN_SAFE_SYNAPSE_VENV should end in the Synapse version $SYNAPSE_VERSION" >&2; exit 2 ;;
esac
# fonts-noto-color-emoji: the pictures to compare when verifying a device (never fetched).
RUN_PACKAGES=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev curl file fonts-noto-color-emoji)
PACKAGE_PACKAGES=(dpkg-dev)
TEST_PACKAGES=(xvfb webkit2gtk-driver dbus-daemon gnome-keyring imagemagick xdotool python3 python3-venv
  "${PACKAGE_PACKAGES[@]}" desktop-file-utils
  # The printable report is printed to PDF by a real browser engine and turned into page images.
  chromium poppler-utils
  # A real notification daemon: notices after a quit and a restart, and its own "default" action.
  dunst)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

mode=${1:-run}
case "$mode" in
  run) packages=("${RUN_PACKAGES[@]}") ;;
  test) packages=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  package) packages=("${RUN_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}") ;;
  *) echo "usage: $0 run|test|package" >&2; exit 2 ;;
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

  if [ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
    say "axe-core $AXE_VERSION is already installed in $AXE_DIR"
  else
    if ! command -v npm >/dev/null; then
      say "Installing npm, for axe-core"
      sudo=()
      if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
      "${sudo[@]}" apt-get update -qq
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm
    fi
    say "Installing axe-core $AXE_VERSION into $AXE_DIR (npm)"
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
  fi

  if [ -x "$SYNAPSE_VENV/bin/python" ] && "$SYNAPSE_VENV/bin/python" -c "import synapse" 2>/dev/null; then
    say "Synapse $SYNAPSE_VERSION is already installed in $SYNAPSE_VENV"
  else
    say "Installing Synapse $SYNAPSE_VERSION into $SYNAPSE_VENV (pip, about two minutes)"
    rm -rf "$SYNAPSE_VENV"
    mkdir -p "$(dirname "$SYNAPSE_VENV")"
    python3 -m venv "$SYNAPSE_VENV"
    "$SYNAPSE_VENV/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION"
  fi
fi
