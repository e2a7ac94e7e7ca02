#!/usr/bin/env bash
# Prints what the browser app weighs on the wire: each file in target/site/pkg
# raw, gzip -9 and brotli (quality 11, as a precompressing proxy would; Node's
# zlib has brotli, so nothing extra to install).
set -euo pipefail
cd "$(dirname "$0")/.."
printf '%-28s %10s %10s %10s\n' file raw gzip brotli
for f in target/site/pkg/*; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  br=$(node -e 'const z=require("zlib"),fs=require("fs");
    const b=z.brotliCompressSync(fs.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}});
    console.log(b.length)' "$f")
  printf '%-28s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
