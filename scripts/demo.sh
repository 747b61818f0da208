#!/usr/bin/env bash
# scripts/demo.sh BUILD -- the README's first command ends here: run weft's demo programs on the
# default configuration (conf/default.ini of the build tree).
set -euo pipefail
build=${1:-build}
weft=$build/cli/weft
[ -x "$weft" ] || { echo "demo: $weft not built" >&2; exit 1; }
wat=$build/tests/wat

echo "== weft $("$weft" --version)"
echo "== recursive factorial, compiled to x86-64: weft run --invoke fac $wat/fac.wasm 20"
"$weft" run --invoke fac "$wat/fac.wasm" 20
echo "== iterative fibonacci: weft run --invoke fib $wat/fib.wasm 90"
"$weft" run --invoke fib "$wat/fib.wasm" 90
