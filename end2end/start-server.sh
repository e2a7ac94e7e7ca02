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
# A fixed key for the test server only: relay passwords are sealed with it.
export REBOUND_SECRETS_KEY="ZTJlLW9ubHkta2V5LWZvci1yZWxheS1wYXNzd29yZHM="
export LEPTOS_SITE_ROOT="$root/target/site"
# The shipped sample network lists, so VPN flagging and risk scoring are live.
cat > "$data/rebound.toml" <<EOF
[risk]
network_lists = [
  { path = "$root/risk-sources/vpn-sample.txt", kind = "vpn" },
  { path = "$root/risk-sources/datacenter-sample.txt", kind = "datacenter" },
]
# The suites bounce on purpose; the health guard must not demote the primary
# between them (its own behaviour is tested in engine/tests/reputation.rs).
[pool_health]
min_sends = 1000000
# WhatsApp links to customers who opted in are kept on the Outbox page.
[whatsapp]
provider = "capture"
EOF
export REBOUND_CONFIG="$data/rebound.toml"
bin="$root/target/debug/rebound"
export REBOUND_USER_PASSWORD="e2e password for tests"
for role in admin agent manager; do
  "$bin" user add --email "$role@e2e.test" --role "$role" --name "E2E $role" >/dev/null
done
unset REBOUND_USER_PASSWORD
exec "$bin" serve --bind "127.0.0.1:$port"
