"""bench/gen/wasm_ss.py -- hand-encoded stack-switching benchmark modules (no assembler in the toolchain can
write them yet: clang does not emit them, wabt 1.0.32 cannot parse them). Each builder returns the bytes of
a module exporting `run(n: i32) -> i32`; bench/run.py writes them to bench/out/wasm/. Encodings follow
../shared/notes/stack-switching-spec.md section 5 (cont 0x5D, cont.new 0xE0, suspend 0xE2, resume 0xE3,
switch 0xE6, handler (on $e $l) = 0x00 tag label). Python 3 standard library only."""

# -- Encoding helpers ---------------------------------------------------------------------------------------

I32 = 0x7F


def uleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if (v == 0 and not b & 0x40) or (v == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items):
    return uleb(len(items)) + b"".join(items)


def name(s):
    return uleb(len(s)) + s.encode()


def section(sec_id, payload):
    return bytes([sec_id]) + uleb(len(payload)) + payload


def functype(params, results):
    return b"\x60" + vec([bytes(p) if isinstance(p, (list, tuple)) else bytes([p]) for p in params]) + \
        vec([bytes(r) if isinstance(r, (list, tuple)) else bytes([r]) for r in results])


def conttype(func_type_index):
    return b"\x5D" + sleb(func_type_index)


def ref(type_index, nullable=False):
    return (0x63 if nullable else 0x64,) + tuple(sleb(type_index))


def body(locals_, code):
    """locals_: list of (count, type bytes); code: instruction bytes without the final end."""
    payload = vec([uleb(c) + bytes(t if isinstance(t, (list, tuple)) else [t]) for c, t in locals_]) + code + b"\x0B"
    return uleb(len(payload)) + payload


def module(types, funcs, tags, globals_, exports, codes):
    out = b"\0asm" + b"\x01\0\0\0"
    out += section(1, vec(types))
    out += section(3, vec([uleb(f) for f in funcs]))
    if tags:
        out += section(13, vec([b"\x00" + uleb(t) for t in tags]))
    if globals_:
        out += section(6, vec(globals_))
    out += section(7, vec([name(n) + bytes([kind]) + uleb(idx) for n, kind, idx in exports]))
    out += section(10, vec(codes))
    return out


# -- Instructions used here ---------------------------------------------------------------------------------

def local_get(i): return b"\x20" + uleb(i)
def local_set(i): return b"\x21" + uleb(i)
def global_get(i): return b"\x23" + uleb(i)
def global_set(i): return b"\x24" + uleb(i)
def i32_const(v): return b"\x41" + sleb(v)
def br(d): return b"\x0C" + uleb(d)
def br_if(d): return b"\x0D" + uleb(d)
def block(bt=b"\x40"): return b"\x02" + bt
def loop(bt=b"\x40"): return b"\x03" + bt
def ref_func(i): return b"\xD2" + uleb(i)
def cont_new(t): return b"\xE0" + uleb(t)
def suspend(tag): return b"\xE2" + uleb(tag)
def resume(t, handlers): return b"\xE3" + uleb(t) + vec([b"\x00" + uleb(e) + uleb(lbl) for e, lbl in handlers])


END = b"\x0B"
UNREACHABLE = b"\x00"
I32_ADD, I32_MUL, I32_GE_U, I32_XOR = b"\x6A", b"\x6C", b"\x4F", b"\x73"


# -- Benchmarks ---------------------------------------------------------------------------------------------

def generator():
    """ss_generator: a generator continuation yields 0..n-1 through `suspend $yield`; run(n) resumes it n+1
    times (one suspend/resume pair per value) and returns sum = sum*31 + v (i32 wrapping), the same value as
    kernels/ss_generator.c computes with a plain loop."""
    # types: 0 gen [] -> [], 1 cont 0, 2 tag [i32] -> [], 3 run [i32] -> [i32], 4 block [] -> [i32 (ref 1)]
    types = [functype([], []), conttype(0), functype([I32], []), functype([I32], [I32]),
             functype([], [I32, ref(1)])]
    gen = body([(1, I32)],
               block() + loop() +
               local_get(0) + global_get(0) + I32_GE_U + br_if(1) +
               local_get(0) + suspend(0) +
               local_get(0) + i32_const(1) + I32_ADD + local_set(0) + br(0) +
               END + END)
    # run: param 0 = n; local 1 = sum (i32), local 2 = k (ref null 1)
    run = body([(1, I32), (1, ref(1, nullable=True))],
               local_get(0) + global_set(0) +
               ref_func(0) + cont_new(1) + local_set(2) +
               block() + loop() +
               block(sleb(4)) + local_get(2) + resume(1, [(0, 0)]) + br(2) + END +
               local_set(2) +
               local_get(1) + i32_const(31) + I32_MUL + I32_ADD + local_set(1) +
               br(0) + END + END +
               local_get(1))
    glob = bytes([I32, 1]) + i32_const(0) + END
    return module(types, [0, 3], [2], [glob], [("run", 0, 1), ("gen", 0, 0)], [gen, run])


def create():
    """ss_create: run(n) makes n fresh continuations; each suspends once with its index (resume 1) and then
    returns (resume 2), so every iteration pays one cont.new, two resumes and one suspend. Checksum as in
    generator(): sum = sum*31 + i over i < n."""
    types = [functype([], []), conttype(0), functype([I32], []), functype([I32], [I32]),
             functype([], [I32, ref(1)])]
    oneshot = body([], global_get(0) + suspend(0))
    # run: param 0 = n; local 1 = sum, local 2 = i, local 3 = k (ref null 1)
    run = body([(2, I32), (1, ref(1, nullable=True))],
               block() + loop() +
               local_get(2) + local_get(0) + I32_GE_U + br_if(1) +
               local_get(2) + global_set(0) +
               ref_func(0) + cont_new(1) + local_set(3) +
               block(sleb(4)) + local_get(3) + resume(1, [(0, 0)]) + UNREACHABLE + END +
               resume(1, []) +
               local_get(1) + i32_const(31) + I32_MUL + I32_ADD + local_set(1) +
               local_get(2) + i32_const(1) + I32_ADD + local_set(2) +
               br(0) + END + END +
               local_get(1))
    glob = bytes([I32, 1]) + i32_const(0) + END
    return module(types, [0, 3], [2], [glob], [("run", 0, 1), ("oneshot", 0, 0)], [oneshot, run])


BUILDERS = {"ss_generator": generator, "ss_create": create}

if __name__ == "__main__":
    import sys
    with open(sys.argv[2], "wb") as f:
        f.write(BUILDERS[sys.argv[1]]())
