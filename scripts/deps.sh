#!/usr/bin/env bash
# scripts/deps.sh -- installs the Debian 12 packages weft needs to build and test, if missing.
# Idempotent: it installs only what `dpkg -s` does not report as installed, and says what.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config    # toolchain
  libinih-dev                         # ini config (core)
  libcmocka-dev                       # unit tests
  wabt                                # wat2wasm/wasm-validate: cross-checks and benchmarks
  clang-14 lld-14 lld                 # C -> wasm32 test programs and benchmarks
  wasi-libc libclang-rt-14-dev-wasm32 # wasm32-wasi sysroot and compiler runtime
  libcapstone-dev                     # disassembler used by the codegen unit tests only
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
