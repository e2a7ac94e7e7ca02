#!/usr/bin/env bash
# Installs everything Rebound needs to build, run and test, on a fresh machine.
# Idempotent: each step checks first and skips what is already there.
# Usage: scripts/setup.sh [toolchain|build|test|check]
#   toolchain: only the pinned Rust toolchain and the wasm32 target
#   build:     and the build tools (cargo-leptos, wasm-bindgen, wasm-opt)
#   test:      and the browser, Postfix's smtp-sink and psql
#   check:     install nothing; exit 1 if a build tool is missing
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-build}
CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated -eq 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
  say "apt: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "$want" = check ]; then
  cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION" &&
    wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION" &&
    [ -x end2end/node_modules/.bin/wasm-opt ]
  exit
fi

# 1. Rust toolchain pinned in rust-toolchain.toml (rustup reads it here).
if ! command -v rustup >/dev/null; then
  say "installing rustup"
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install "$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
[ "$want" = toolchain ] && exit 0

# 2. cargo-leptos without its own downloads, plus the tools it would download.
# Both are built with a cheap release profile (cargo's CARGO_PROFILE_RELEASE_*
# overrides), and at the same time: they share no build directory.
tool_target=$(mktemp -d)
trap 'rm -rf "$tool_target"' EXIT
cheap() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_PROFILE_RELEASE_INCREMENTAL=false "$@"
}
cheap_tool_build() {
  wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION" && return 0
  CARGO_TARGET_DIR="$tool_target/bindgen" cheap cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
}
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  # A build tool, not the product: its own release profile (fat LTO, one
  # codegen unit, opt-level 3) cost 17 minutes on 2 cores; this one a few.
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION and wasm-bindgen-cli $WASM_BINDGEN_VERSION side by side"
  cheap_tool_build &
  CARGO_TARGET_DIR="$tool_target/leptos" cheap cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  wait $! || exit 1
elif ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  cheap_tool_build
fi

# 3. Node tools (wasm-opt from npm binaryen: Debian's v108 breaks hydration).
command -v npm >/dev/null || apt_install nodejs npm
nm=end2end/node_modules
if [ ! -x $nm/.bin/wasm-opt ] || [ ! -d $nm/@playwright/test ] || [ end2end/package-lock.json -nt $nm/.stamp ]; then
  say "npm ci in end2end/ (binaryen's wasm-opt, playwright, axe-core; no browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  touch $nm/.stamp
fi

if [ "$want" = test ]; then
  # 4. Browser for Playwright, Postfix's smtp-sink for the dispatch bench, psql.
  apt_install chromium postfix postgresql-client
fi
say "ready"
