#!/usr/bin/env bash
# `make bench`: Rebound measured end to end as it runs, against ceilings run as
# a competitor would run them, every side in its own process (bench/src/main.rs
# says how). Builds the release binaries first (rebound, raw-lettre,
# bare-insert), installs what the harness drives if it is missing (Postfix's
# smtp-sink, wrk), then prints the table. About 6 minutes on 2 cores.
#   REBOUND_BENCH_ROUNDS (3), REBOUND_BENCH_ORDERS (30000), REBOUND_BENCH_SECONDS (8),
#   REBOUND_BENCH_ONLY=intake|dispatch, REBOUND_BENCH_BACKENDS=sqlite,postgres
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

missing=()
[ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    echo "bench: needs ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

load=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: load average $load before the build"
time cargo build --release -p server -p rebound-bench --bins
echo "bench: load average $(cut -d' ' -f1 /proc/loadavg) before measuring (above ~3 the numbers drift; ratios are taken within a run)"
exec target/release/rebound-bench
