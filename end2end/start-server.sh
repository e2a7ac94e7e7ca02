#!/usr/bin/env bash
# Starts the real `rebound` binary (built by `cargo leptos build`) on a fresh
# SQLite database with one user per role, for the Playwright suite.
set -euo pipefail
port=${1:-3100}
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$root/end2end/.data"
rm -rf "$data" && mkdir -p "$data"
cd "$root"
export DATABASE_URL="sqlite://$data/e2e.db"
export REBOUND_DEMO__CREATE_ADMIN=false
export LEPTOS_SITE_ROOT="$root/target/site"
bin="$root/target/debug/rebound"
export REBOUND_USER_PASSWORD="e2e password for tests"
for role in admin agent manager; do
  "$bin" user add --email "$role@e2e.test" --role "$role" --name "E2E $role" >/dev/null
done
unset REBOUND_USER_PASSWORD
exec "$bin" serve --bind "127.0.0.1:$port"
