#!/usr/bin/env bash
# scripts/demo.sh BUILD -- the README's first command ends here: run weft's demo programs on the
# default configuration (conf/default.ini of the build tree). First the main job: a C program
# (examples/coro/demo.c, built for wasm32-wasi by clang-14) whose coroutines are weft
# continuations, from the small library examples/coro/coro.wat linked in with --preload; then
# the short factorial and fibonacci runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
weft=$build/cli/weft
[ -x "$weft" ] || { echo "demo: $weft not built" >&2; exit 1; }
wat=$build/tests/wat
coro=$build/examples/coro/coro-demo.wasm

echo "== $("$weft" --version)"
if [ -f "$coro" ]; then
  echo "== coroutines in C on native stack switching:"
  echo "== weft run --preload env=examples/coro/coro.wat $coro"
  "$weft" run --preload "env=$here/examples/coro/coro.wat" "$coro"
else
  echo "== (the coroutine demo needs clang-14 and wasi-libc to build: run scripts/deps.sh)"
fi
echo "== recursive factorial, compiled to x86-64: weft run --invoke fac $wat/fac.wasm 20"
"$weft" run --invoke fac "$wat/fac.wasm" 20
echo "== iterative fibonacci: weft run --invoke fib $wat/fib.wasm 90"
"$weft" run --invoke fib "$wat/fib.wasm" 90
