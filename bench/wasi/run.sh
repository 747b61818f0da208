#!/bin/sh
# bench/wasi/run.sh -- one command for the WASI benchmark: the bench/kernels/ programs as WASI commands on
# native gcc -O2, weft (`weft run`), V8 via Node 26's node:wasi (default tiers) and V8 --liftoff-only.
# Thin wrapper over bench/wasi/run.py (Python 3 standard library only); options pass through, see --help
# and bench/wasi/README.md. Needs gcc, clang-14 + wasm-ld + wasi-libc, and Node 26 in bench/node_modules.
exec python3 "$(dirname "$0")/run.py" "$@"
