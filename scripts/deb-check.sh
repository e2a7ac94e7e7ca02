#!/usr/bin/env bash
# Checks a built package the way dpkg would lay it out: unpacks it into a
# temporary root (dpkg -x), checks that every path the systemd unit names is
# in it, then starts the unpacked binary with the unit's settings (rooted in
# the temporary tree) and fetches a page and the WASM from it, compressed.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(ls -t target/debian/rebound_*.deb | head -1)}
root=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT
dpkg -x "$deb" "$root"
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$root" ./conffiles ./postinst
fail() { echo "deb-check: $*" >&2; exit 1; }

unit="$root/lib/systemd/system/rebound@.service"
[ -f "$unit" ] || fail "no unit at /lib/systemd/system/rebound@.service"
value() { sed -n "s/^$1=//p" "$unit"; }
exe=$(value ExecStart | cut -d' ' -f1)
site=$(value Environment | sed -n 's/^LEPTOS_SITE_ROOT=//p')
config=$(value Environment | sed -n 's/^REBOUND_CONFIG=//p')
[ -x "$root$exe" ] || fail "ExecStart names $exe, not in the package"
hashes=$(value Environment | sed -n 's/^LEPTOS_HASH_FILE_NAME=//p')
[ -f "$root$hashes" ] || fail "LEPTOS_HASH_FILE_NAME names $hashes, not in the package"
wasm="rebound.$(sed -n 's/^wasm: *//p' "$root$hashes").wasm"
css="rebound.$(sed -n 's/^css: *//p' "$root$hashes").css"
for f in "$wasm" "$css"; do
  [ -f "$root$site/pkg/$f" ] || fail "$hashes names $f, not in LEPTOS_SITE_ROOT $site/pkg"
done
[ -f "$root$config" ] || fail "REBOUND_CONFIG names $config, not in the package"
[ -f "$root/etc/rebound/all.env" ] || fail "no /etc/rebound/all.env for rebound@all"
grep -qx /etc/rebound/rebound.toml "$root/conffiles" || fail "rebound.toml is not a conffile"
# The data directory and secrets are made by postinst, not shipped.
for made in /var/lib/rebound /etc/rebound/secrets.env; do
  grep -q "$made" "$root/postinst" || fail "postinst does not make $made"
done

# Run it as the unit would, with paths moved into the temporary root.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$root/var/lib/rebound"
(cd "$root/var/lib/rebound" &&
  REBOUND_CONFIG="$root$config" LEPTOS_SITE_ROOT="$root$site" LEPTOS_HASH_FILE_NAME="$root$hashes" \
  DATABASE_URL="sqlite://$root/var/lib/rebound/data/rebound.db" \
  REBOUND_SECRETS_KEY=$(head -c 32 /dev/urandom | base64) REBOUND_BIND="127.0.0.1:$port" \
  exec "$root$exe" serve --role all >"$root/serve.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$root/serve.log"; fail "the unpacked binary did not start"; }
enc=$(curl -s -o /dev/null -H 'Accept-Encoding: br, gzip' -w '%header{content-encoding}' "http://127.0.0.1:$port/pkg/$wasm")
[ "$enc" = br ] || fail "the WASM was served with content-encoding '$enc', not br"
page=$(curl -sf "http://127.0.0.1:$port/login") || fail "/login did not answer 200"
for f in "$wasm" "$css"; do
  grep -q "/pkg/$f" <<<"$page" || fail "/login does not link /pkg/$f"
done
cache=$(curl -s -o /dev/null -w '%header{cache-control}' "http://127.0.0.1:$port/pkg/$css")
[[ "$cache" == *immutable* ]] || fail "/pkg/$css is cached as '$cache', not immutable"
# The main WASM is rewritten after the build names it: asked for again each time.
cache=$(curl -s -o /dev/null -w '%header{cache-control}' "http://127.0.0.1:$port/pkg/$wasm")
[ "$cache" = no-cache ] || fail "/pkg/$wasm is cached as '$cache', not no-cache"
echo "deb-check: $deb: unit paths present, /login links the hashed app, WASM (br, no-cache), CSS immutable"
