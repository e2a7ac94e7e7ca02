#!/usr/bin/env bash
# `make run`: build what is missing, seed 30 days of demo history once, serve
# on http://127.0.0.1:3000.
#
# On a fresh machine the build tools (cargo-leptos, wasm-bindgen) cost about
# 30 CPU-minutes to compile, more than the server itself. Every page works
# without JavaScript, so the first run does not wait for them: it builds and
# starts the server at once, while the tools and the browser app build behind
# it at the lowest CPU priority. When that finishes the server restarts once to
# link the app's new (content-hashed) file names, and pages become interactive
# (hydrated); the build's progress is in target/first-run.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"

bash scripts/setup.sh toolchain

builder=
if bash scripts/setup.sh check >/dev/null 2>&1; then
  time cargo leptos build --split
else
  mkdir -p target/site/pkg
  log=target/first-run.log
  echo "[run] first run: the build tools and the browser app build in the background (tail -f $log)"
  # Built beside the served site (the build empties its site root first),
  # then swapped in.
  nohup nice -n 19 bash -c 'bash scripts/setup.sh build &&
    LEPTOS_SITE_ROOT=target/site-next cargo leptos build --split &&
    rm -rf target/site && mv target/site-next target/site' >"$log" 2>&1 &
  builder=$!
  # The same package, binary and features as cargo-leptos's server build
  # (bin-package, bin-target, bin-default-features in Cargo.toml), so its
  # later build finds this one up to date.
  time cargo build --package=server --bin=rebound --no-default-features
  # The stylesheet cargo-leptos would put there; it replaces it later.
  [ -f target/site/pkg/rebound.css ] || cp style/main.css target/site/pkg/rebound.css
  echo "[run] serving now; pages are interactive once the background build ends (see $log)"
fi

./target/debug/rebound demo seed --orders 6000 --days 30 --if-empty
[ -z "$builder" ] && exec ./target/debug/rebound serve

# First run: serve now, and once more when the browser app is built (the
# server reads the app's file names at start).
./target/debug/rebound serve &
server=$!
trap 'kill $server 2>/dev/null' EXIT
while kill -0 "$builder" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 2; done
kill -0 "$server" 2>/dev/null || { wait "$server"; exit; }
if wait "$builder"; then
  echo "[run] the browser app is built: restarting the server to serve it"
  kill -TERM "$server"; wait "$server" || true
  trap - EXIT
  exec ./target/debug/rebound serve
fi
echo "[run] the browser app did not build (see $log); pages still work without JavaScript"
wait "$server"
