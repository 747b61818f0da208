#!/usr/bin/env python3
"""tests/unit/validator/gen_bench_module.py -- writes a large valid Wasm module for timing validation.

Usage: gen_bench_module.py OUT.wasm [SIZE_MB]. The functions mix what compilers emit most: locals,
i32/i64/f64 arithmetic, loads/stores, nested blocks/loops/ifs, br_if, br_table and calls. Deterministic.
Used by bench_validate (tests/unit/validator) and by hand with wasm-validate; never a timed test.
"""
import random, struct, sys

def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)

def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40): out.append(b); return bytes(out)
        out.append(b | 0x80)

def section(sid, body): return bytes([sid]) + uleb(len(body)) + body
def vec(items): return uleb(len(items)) + b"".join(items)

I32, I64, F64 = 0x7F, 0x7E, 0x7C

def body(rng, nfuncs):
    # params: (i32 i32) -> i32; locals: 4 i32, 2 i64, 2 f64 (indices 2-5 i32, 6-7 i64, 8-9 f64)
    code = bytearray()
    def expr_i32(depth=0):
        k = rng.randrange(6 if depth < 3 else 3)
        if k == 0: code.extend(b"\x20" + uleb(rng.randrange(6)))
        elif k == 1: code.extend(b"\x41" + sleb(rng.randrange(-1000, 1000)))
        elif k == 2: code.extend(b"\x20" + uleb(rng.randrange(6)) + b"\x28\x02" + uleb(rng.randrange(64)))
        elif k == 3:
            expr_i32(depth + 1); expr_i32(depth + 1); code.append(rng.choice([0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x46, 0x48]))
        elif k == 4:
            code.extend(b"\x20" + uleb(6 + rng.randrange(2))); expr_i32(depth + 1)
            code.append(0xAD); code.append(0x7C); code.append(0xA7)  # i64.extend_i32_u, i64.add, i32.wrap
        else:
            expr_i32(depth + 1); expr_i32(depth + 1)
            code.extend(b"\x10" + uleb(rng.randrange(nfuncs)))
    def stmt(depth):
        k = rng.randrange(7 if depth < 4 else 3)
        if k == 0: expr_i32(); code.extend(b"\x21" + uleb(2 + rng.randrange(4)))
        elif k == 1: code.extend(b"\x20\x00"); expr_i32(); code.extend(b"\x36\x02" + uleb(rng.randrange(64)))
        elif k == 2:
            code.extend(b"\x20" + uleb(8 + rng.randrange(2)) + b"\x44" + struct.pack("<d", rng.random()))
            code.extend(b"\xa0\x21" + uleb(8 + rng.randrange(2)))
        elif k == 3:
            code.extend(b"\x02\x40")
            for _ in range(rng.randrange(1, 4)): stmt(depth + 1)
            expr_i32(); code.extend(b"\x0d\x00")
            stmt(depth + 1); code.append(0x0B)
        elif k == 4:
            code.extend(b"\x03\x40")
            for _ in range(rng.randrange(1, 3)): stmt(depth + 1)
            expr_i32(); code.extend(b"\x0d\x00\x0b")
        elif k == 5:
            expr_i32(); code.extend(b"\x04\x7f"); expr_i32(); code.append(0x05); expr_i32(); code.append(0x0B)
            code.extend(b"\x21" + uleb(2 + rng.randrange(4)))
        else:
            code.extend(b"\x02\x40\x02\x40"); expr_i32()
            code.extend(b"\x0e\x02\x00\x01\x00\x0b"); stmt(depth + 1); code.append(0x0B)
    for _ in range(rng.randrange(8, 24)): stmt(0)
    expr_i32(); code.append(0x0B)
    locals = vec([uleb(4) + bytes([I32]), uleb(2) + bytes([I64]), uleb(2) + bytes([F64])])
    b = locals + bytes(code)
    return uleb(len(b)) + b

def main():
    out = sys.argv[1]
    size = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    rng = random.Random(1234)
    target = int(size * 1024 * 1024)
    # Estimate the average body size from a sample, then emit exactly n bodies (calls stay in range).
    sample = [len(body(random.Random(i), 1)) for i in range(64)]
    n = max(1, int(target / (sum(sample) / len(sample))))
    bodies = [body(rng, n) for _ in range(n)]
    types = section(1, vec([b"\x60" + vec([bytes([I32]), bytes([I32])]) + vec([bytes([I32])])]))
    funcs = section(3, vec([uleb(0)] * n))
    mem = section(5, vec([b"\x00\x01"]))
    exports = section(7, vec([vec([b"f"]) [0:0] + uleb(1) + b"f" + b"\x00" + uleb(0)]))
    code = section(10, uleb(n) + b"".join(bodies))
    data = b"\x00asm\x01\x00\x00\x00" + types + funcs + mem + exports + code
    open(out, "wb").write(data)
    print(f"{out}: {len(data)} bytes, {n} functions")

main()
