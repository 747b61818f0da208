#!/bin/sh
# bench/gc/run.sh -- binary-trees (bench/gc/binary-trees.wasm, built from the .wat next to it by
# weft's text front end) timed under weft and, when a Node with the final GC encoding is present,
# under V8; prints wall time and peak RSS (/usr/bin/time) and the checksum of each.
# Usage: bench/gc/run.sh [DEPTH] [WEFT] [NODE]   (defaults: 20, build/bin/weft, node)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
depth=${1:-20}
weft=${2:-$root/build/bin/weft}
node=${3:-node}
plugins="core.plugins=validator,x64-codegen,contstacks,backtrace,gc"
echo "weft: $(/usr/bin/time -f '%e s, peak RSS %M KB' "$weft" run -C "$plugins" --invoke run \
  "$here/binary-trees.wasm" "$depth" 2>&1 | tr '\n' ' ')"
echo "v8:   $(/usr/bin/time -f '%e s, peak RSS %M KB' "$node" "$root/bench/js/run-wasm.mjs" \
  "$here/binary-trees.wasm" run "$depth" 2>&1 | tail -2 | tr '\n' ' ')"
