#!/usr/bin/env bash
# `make run`: build what is missing, seed 30 days of demo history once, serve
# on http://127.0.0.1:3000.
#
# On a fresh machine the build tools (cargo-leptos, wasm-bindgen) cost about
# 30 CPU-minutes to compile, more than the server itself. Every page works
# without JavaScript, so the first run does not wait for them: it builds and
# starts the server at once, while the tools and the browser app build behind
# it at the lowest CPU priority. Pages become interactive (hydrated) when that
# finishes; its progress is in target/first-run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

bash scripts/setup.sh toolchain

if bash scripts/setup.sh check >/dev/null 2>&1; then
  time cargo leptos build --split
else
  mkdir -p target/site/pkg
  log=target/first-run.log
  echo "[run] first run: the build tools and the browser app build in the background (tail -f $log)"
  nohup nice -n 19 bash -c 'bash scripts/setup.sh build && cargo leptos build --split' >"$log" 2>&1 &
  # The same package, binary and features as cargo-leptos's server build
  # (bin-package, bin-target, bin-default-features in Cargo.toml), so its
  # later build finds this one up to date.
  time cargo build --package=server --bin=rebound --no-default-features
  # The stylesheet cargo-leptos would put there; it replaces it later.
  [ -f target/site/pkg/rebound.css ] || cp style/main.css target/site/pkg/rebound.css
  echo "[run] serving now; pages are interactive once the background build ends (see $log)"
fi

./target/debug/rebound demo seed --orders 6000 --days 30 --if-empty
exec ./target/debug/rebound serve
