#!/bin/sh
# bench/run.sh -- one command for the whole comparison: weft vs native gcc -O2 vs V8 (default, --liftoff-only).
# Thin wrapper over bench/run.py (Python 3 standard library only); all options pass through, see --help
# and bench/README.md. Needs gcc, clang-14 + wasm-ld, and npm (once, to install Node 26 into bench/node_modules).
exec python3 "$(dirname "$0")/run.py" "$@"
