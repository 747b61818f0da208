#!/usr/bin/env python3
"""tests/unit/decode/gen_big_c.py -- writes a large C program for decode-throughput measurements.

Usage: gen_big_c.py N > big.c ; clang-14 --target=wasm32-wasi --sysroot=/usr -O1 -nostartfiles
       -Wl,--no-entry -Wl,--export-all big.c -o big.wasm   (N=6000 gives about 5 MB of wasm)
Deterministic (fixed seed); functions mix loops, switches, memory, floats and calls."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
rnd = random.Random(1234)
out = sys.stdout
out.write("#include <stdint.h>\n#include <string.h>\n\nstatic uint8_t heap[1 << 16];\n")
out.write("double fsink; int64_t isink;\n\n")
for i in range(n):
    out.write(f"__attribute__((noinline)) int64_t f{i}(int32_t a, int64_t b, double c) {{\n")
    out.write("  int64_t acc = b ^ a; double d = c;\n")
    for k in range(rnd.randint(3, 8)):
        kind = rnd.randint(0, 5)
        if kind == 0:
            out.write(f"  for (int i = 0; i < (a & {rnd.randint(7, 63)}); i++) {{ acc += heap[(i * {rnd.randint(1, 97)} + a) & 0xffff] * {rnd.randint(2, 99)}; acc ^= acc >> {rnd.randint(1, 13)}; }}\n")
        elif kind == 1:
            out.write(f"  switch ((acc + {k}) & 7) {{ case 0: acc += {rnd.randint(1, 1 << 20)}; break; case 1: acc *= 3; break; case 2: d += (double)acc * {rnd.random():.5f}; break; case 3: acc -= (int64_t)d; break; case 5: acc <<= 2; break; default: acc = ~acc; }}\n")
        elif kind == 2:
            out.write(f"  d = d * {rnd.random():.6f} + (double)(acc & 0xfff) / {rnd.randint(3, 999)}.0; if (d > {rnd.randint(10, 10000)}.0) d -= (double)a;\n")
        elif kind == 3 and i > 0:
            j = rnd.randint(max(0, i - 50), i - 1)
            out.write(f"  acc += f{j}(a - 1, acc, d) & 0xff;\n")
        elif kind == 4:
            off = rnd.randint(0, 60000)
            out.write(f"  {{ uint32_t v; memcpy(&v, heap + {off}, 4); v = v * {rnd.randint(3, 1 << 30)}u + (uint32_t)acc; memcpy(heap + {off}, &v, 4); acc += v; }}\n")
        else:
            out.write(f"  if ((acc & {rnd.randint(1, 255)}) == {rnd.randint(0, 255)}) {{ acc = acc * {rnd.randint(3, 1 << 16)} + {rnd.randint(0, 1 << 30)}; }} else {{ acc -= a * {rnd.randint(2, 999)}; }}\n")
    out.write("  fsink = d; return acc;\n}\n\n")
out.write("int64_t run(int32_t a) {\n  int64_t s = 0;\n")
for i in range(0, n, max(1, n // 200)):
    out.write(f"  s += f{i}(a, s, 1.5);\n")
out.write("  return s;\n}\n")
