#!/usr/bin/env bash
# Prints what the browser app weighs on the wire: the main module, its JS
# glue and the stylesheet one by one, and the lazily loaded chunks of a
# split build (each page's code, fetched when the page is first opened)
# summed; raw, gzip -9 and brotli at quality 11 (as a precompressing proxy
# would; Node's zlib has brotli, so nothing extra to install).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes() { # prints "raw gzip brotli" for the files given
  node -e 'const z=require("zlib"),fs=require("fs"); let r=0,g=0,b=0;
    for (const f of process.argv.slice(1)) { const d=fs.readFileSync(f); r+=d.length;
      g+=z.gzipSync(d,{level:9}).length;
      b+=z.brotliCompressSync(d,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length; }
    console.log(r, g, b)' "$@"
}
pkg=target/site/pkg
shopt -s nullglob
printf '%-40s %10s %10s %10s\n' file raw gzip brotli
# rebound.<hash>.wasm etc. (hash-files), or the plain names of an older build.
for f in "$pkg"/rebound*.wasm "$pkg"/rebound*.js "$pkg"/rebound*.css; do
  printf '%-40s %10s %10s %10s\n' "$(basename "$f")" $(sizes "$f")
done
chunks=("$pkg"/chunk_*.wasm "$pkg"/__wasm_split*.js)
if [ ${#chunks[@]} -gt 0 ]; then
  printf '%-40s %10s %10s %10s\n' "${#chunks[@]} lazy chunks" $(sizes "${chunks[@]}")
fi
