#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust auth and
# a database `test` (CI's machines usually have one; a bare machine gets one).
set -euo pipefail
say() { printf '\033[1m[postgres]\033[0m %s\n' "$*"; }
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
  say "already running on 127.0.0.1:5432"
else
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  if ! grep -q "rebound-ci" "$hba"; then
    say "trust auth on loopback for the test user"
    sed -i '1i host all all 127.0.0.1/32 trust # rebound-ci\nhost all all ::1/128 trust # rebound-ci' "$hba"
  fi
  say "starting cluster $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
  ready || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
if ! psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null
fi
say "ready: postgres://postgres@127.0.0.1:5432/test"
