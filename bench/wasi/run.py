#!/usr/bin/env python3
"""bench/wasi/run.py -- the WASI benchmark: the kernels of bench/kernels/ as whole WASI programs (printf).

Builds every compute kernel with bench/wasi/main.c twice (wasm32-wasi with clang-14 and wasi-libc, native
with gcc -O2) into bench/wasi/out/, runs each program as a whole process on native, weft (`weft run`),
V8 through Node 26's node:wasi (default tiers) and V8 --liftoff-only, N times round-robin, checks that every
engine printed the native checksum and prints a table of median wall times, ratios to native and a geomean
per engine. Python 3 standard library only; see README.md beside it.
"""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

# The helpers both harnesses share (logging, rebuild checks, installing Node 26) live in bench/run.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from run import find_node, geomean, log, round_robin, sh, stale  # noqa: E402  (bench/run.py)

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
KDIR = os.path.join(BENCH, "kernels")
OUT = os.path.join(HERE, "out")
MAIN_C = os.path.join(HERE, "main.c")
JS_RUNNER = os.path.join(HERE, "run-wasi.mjs")

# The compute kernels of bench/kernels/ (the start-up and stack-switching ones have no C source to wrap).
# name, default n (the sizes bench/run.py uses: 0.5-1.2 s natively), quick n (smoke test)
KERNELS = [
    ("gemm", 1000, 64),
    ("jacobi2d", 400, 4),
    ("floyd", 1200, 100),
    ("matmul", 1000, 64),
    ("sieve", 12, 1),
    ("nbody", 10000000, 10000),
    ("sha256", 2000, 20),
    ("crc32", 400, 4),
    ("quicksort", 10, 1),
    ("heapsort", 5, 1),
    ("fib", 42, 24),
    ("richards", 30000000, 100000),
]
# v8: Node's default tiers (lazy Liftoff, tier-up to TurboFan). v8-liftoff: --liftoff-only.
# v8-turbofan (--no-liftoff) is available with --engines but not run by default.
ENGINES = ["native", "weft", "v8", "v8-liftoff"]
ALL_ENGINES = ENGINES + ["v8-turbofan"]
V8_FLAGS = {"v8": [], "v8-liftoff": ["--liftoff-only"], "v8-turbofan": ["--no-liftoff"]}

WARN = ["-Wall", "-Wextra", "-Wshadow", "-Wundef", "-Wwrite-strings", "-Wstrict-prototypes",
        "-Wmissing-prototypes"]
NATIVE_CC = ["gcc", "-std=c11", "-O2"] + WARN
# wasi-libc supplies memcpy/memset, so bench/kernels/rt.c is not linked. The stack is 1 MiB as in the
# libc-free builds (quicksort recurses).
WASM_CC = ["clang-14", "--target=wasm32-wasi", "--sysroot=/usr", "-std=c11", "-O2"] + WARN
WASM_LINK = ["-Wl,-z,stack-size=1048576"]


# -- Building --------------------------------------------------------------------------------------------


def build(names, need_wasm):
    """Builds bench/wasi/out/{native/K, wasm/K.wasm} when missing or older than their sources or flags."""
    os.makedirs(os.path.join(OUT, "native"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "wasm"), exist_ok=True)
    stamp = os.path.join(OUT, "flags.stamp")
    flags = repr((NATIVE_CC, WASM_CC, WASM_LINK))
    if not os.path.exists(stamp) or open(stamp).read() != flags:
        with open(stamp, "w") as f:
            f.write(flags)
    header = os.path.join(KDIR, "bench.h")
    for name in names:
        src = os.path.join(KDIR, name + ".c")
        deps = [src, header, MAIN_C, stamp]
        exe = os.path.join(OUT, "native", name)
        wasm = os.path.join(OUT, "wasm", name + ".wasm")
        if stale(exe, deps):
            log("build native %s" % name)
            sh(NATIVE_CC + ["-I", KDIR, src, MAIN_C, "-lm", "-o", exe])
        if need_wasm and stale(wasm, deps):
            log("build wasm   %s (wasm32-wasi)" % name)
            sh(WASM_CC + WASM_LINK + ["-I", KDIR, src, MAIN_C, "-o", wasm])


# -- Engines ---------------------------------------------------------------------------------------------


def weft_works(weft):
    """True when `weft run fib.wasm 10` (the WASI build, always built) prints 55 and exits 0."""
    try:
        r = subprocess.run([weft, "run", os.path.join(OUT, "wasm", "fib.wasm"), "10"],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and parse_checksum(r.stdout) == 55


def find_weft(explicit):
    """--weft, else $WEFT, else build-bench-wasi/, build/, then every build*/ (newest first): the first
    binary that passes weft_works(), or failing that the first that exists, so that its errors show."""
    if explicit or os.environ.get("WEFT"):
        path = explicit or os.environ["WEFT"]
        return (path, None) if os.access(path, os.X_OK) else (None, "weft %s is not executable" % path)
    cands = [os.path.join(REPO, d, "bin", "weft") for d in ("build-bench-wasi", "build")]
    cands += sorted(glob.glob(os.path.join(REPO, "build?*", "bin", "weft")), key=os.path.getmtime,
                    reverse=True)
    found = [c for c in cands if os.path.isfile(c) and os.access(c, os.X_OK)]
    if not found:
        return None, "no weft binary (looked for build*/bin/weft; pass --weft PATH)"
    for c in found:
        if weft_works(c):
            return c, None
    log("no weft binary passes the fib(10) probe; using %s so its errors show" % found[0])
    return found[0], None


def engine_cmd(engine, name, n, tools):
    wasm = os.path.join(OUT, "wasm", name + ".wasm")
    if engine == "native":
        return [os.path.join(OUT, "native", name), str(n)]
    if engine == "weft":
        return [tools["weft"], "run", wasm, str(n)]
    # --no-warnings: node:wasi prints an ExperimentalWarning on every start otherwise.
    return [tools["node"], "--no-warnings"] + V8_FLAGS[engine] + [JS_RUNNER, wasm, str(n)]


RESULT_RE = re.compile(r"^\s*([0-9]+)\s*$")


def parse_checksum(stdout):
    """The program's one output line: an unsigned decimal."""
    for line in stdout.splitlines():
        m = RESULT_RE.match(line)
        if m:
            return int(m.group(1))
    return None


def run_once(cmd, timeout):
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timeout after %ds" % timeout}
    except OSError as e:
        return {"error": "cannot start: %s" % e}
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        lines = [ln.strip() for ln in (r.stderr + "\n" + r.stdout).splitlines() if ln.strip()]
        how = "exit %d" % r.returncode if r.returncode > 0 else "signal %d" % -r.returncode
        return {"error": "%s: %s" % (how, " / ".join(lines[:3]) or "no output")}
    cs = parse_checksum(r.stdout)
    if cs is None:
        return {"error": "no checksum in output: %r" % r.stdout[:80]}
    return {"wall": wall, "checksum": cs}


def measure_kernel(cmds, reps, timeout):
    """round_robin (bench/run.py) over this harness's run_once. Returns engine -> result."""
    res, samples = round_robin(cmds, reps, timeout, run_once)
    for e, runs in samples.items():
        ws = [r["wall"] for r in runs]
        res[e] = {"checksum": res[e]["checksum"], "median": statistics.median(ws), "walls": ws}
    return res


# -- Report ----------------------------------------------------------------------------------------------

def ok(res):
    return res is not None and "error" not in res and not res.get("wrong")


def first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return ((r.stdout or r.stderr).strip().splitlines() or ["n/a"])[0]
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"


def machine_info(tools):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": "%s, %d cores" % (cpu, os.cpu_count() or 0),
        "gcc": first_line(["gcc", "--version"]),
        "clang": first_line(["clang-14", "--version"]),
        "node": first_line([tools["node"], "--version"]) if tools.get("node") else "n/a",
        "weft": tools.get("weft") or "n/a",
        "commit": first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cell(res, base):
    if res is None:
        return "-"
    if "error" in res:
        if res["error"].startswith("timeout"):
            return "TIMEOUT"
        m = re.match(r"(exit|signal) ([0-9]+)", res["error"])
        return "FAIL (%s %s)" % (m.group(1), m.group(2)) if m else "FAIL"
    if res.get("wrong"):
        return "WRONG"
    s = "%.3f" % res["median"]
    if ok(base):
        s += " (%.2fx)" % (res["median"] / base["median"])
    return s


def render(results, engines, sizes, info, reps, notes, quick):
    head = ["kernel", "n", "checksum", "wasm B"] + engines
    rows = []
    for name, n in sizes:
        r = results[name]
        cs = r.get("reference")
        rows.append([name, str(n), "%u" % cs if cs is not None else "?", str(r.get("wasm_bytes", "?"))] +
                    [cell(r.get(e), r.get("native") if e != "native" else None) for e in engines])
    geo = ["geomean vs native", "", "", ""]
    for e in engines:
        ratios = [results[k][e]["median"] / results[k]["native"]["median"] for k, _ in sizes
                  if ok(results[k].get(e)) and ok(results[k].get("native"))]
        g = geomean(ratios)
        geo.append("%.2fx (%d/%d)" % (g, len(ratios), len(sizes)) if g else "- (0/%d)" % len(sizes))
    rows.append(geo)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    out = ["weft WASI benchmark: median of %d whole-process wall times in seconds (ratio to native gcc -O2)%s"
           % (reps, "; QUICK smoke-test sizes, not a benchmark" if quick else ""),
           "machine: %s; %s; load average %s at start, %s at end"
           % (info["cpu"], info["date"], info["load_start"], info["load_end"]),
           "gcc: %s | clang: %s | node: %s" % (info["gcc"], info["clang"], info["node"]),
           "weft: %s (repo %s)" % (info["weft"], info["commit"]),
           "command: %s" % info["command"], "",
           "| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(head)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |" for r in rows]
    if notes:
        out += [""] + notes
    return "\n".join(out)


# -- Main ------------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description="WASI programs: native vs weft vs V8 node:wasi (see README.md)")
    ap.add_argument("--weft", help="path to the weft CLI (default: $WEFT, else build*/bin/weft)")
    ap.add_argument("--reps", type=int, default=5, help="timed runs per kernel and engine (default 5)")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma list of %s (default: %s)" % (",".join(ALL_ENGINES), ",".join(ENGINES)))
    ap.add_argument("--kernels", help="comma list of kernels (default: all)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes and 1 rep: a smoke test, not a benchmark")
    ap.add_argument("--n", action="append", default=[], metavar="KERNEL=N", help="override a kernel's n")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per process (default 120)")
    ap.add_argument("--no-install", action="store_true", help="never run npm; skip V8 when node is missing")
    ap.add_argument("--build-only", action="store_true", help="build the programs and stop")
    ap.add_argument("--json", default=os.path.join(OUT, "results.json"), help="where to write raw results")
    ap.add_argument("--markdown", default=os.path.join(OUT, "latest.md"), help="where to write the table")
    args = ap.parse_args(argv)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ALL_ENGINES]
    if bad:
        ap.error("unknown engine(s): %s" % ", ".join(bad))
    if "native" not in engines:
        engines.insert(0, "native")  # the reference checksum and the ratios need it
    known = {k: (n, q) for k, n, q in KERNELS}
    names = [k.strip() for k in args.kernels.split(",")] if args.kernels else [k for k, _, _ in KERNELS]
    bad = [k for k in names if k not in known]
    if bad:
        ap.error("unknown kernel(s): %s" % ", ".join(bad))
    sizes = {k: known[k][1 if args.quick else 0] for k in names}
    for spec in args.n:
        k, _, v = spec.partition("=")
        if k not in sizes or not v.isdigit():
            ap.error("--n wants KERNEL=N with a selected kernel, got %r" % spec)
        sizes[k] = int(v)
    reps = 1 if args.quick else max(1, args.reps)

    try:
        build(sorted(set(names) | {"fib"}), need_wasm=True)
    except RuntimeError as e:
        log(str(e))
        return 2
    if args.build_only:
        log("built %d programs into %s" % (len(names), OUT))
        return 0

    notes, tools = [], {}
    if any(e.startswith("v8") for e in engines):
        tools["node"], why = find_node(not args.no_install)
        if why:
            notes.append(why)
            engines = [e for e in engines if not e.startswith("v8")]
    if "weft" in engines:
        tools["weft"], why = find_weft(args.weft)
        if why:
            notes.append(why)
            engines.remove("weft")

    load_start = loadavg()
    info = machine_info(tools)  # before the runs: the date and repo commit are those the run started at
    results = {}
    for name in names:
        n = sizes[name]
        log("kernel %s n=%d" % (name, n))
        res = measure_kernel({e: engine_cmd(e, name, n, tools) for e in engines}, reps, args.timeout)
        ref = res["native"].get("checksum")
        res["reference"] = ref
        for e in engines:
            r = res[e]
            if e != "native" and ok(r) and ref is not None and r["checksum"] != ref:
                r["wrong"] = True
                notes.append("%s on %s: WRONG checksum %u, native printed %u" % (e, name, r["checksum"], ref))
            elif r is not None and "error" in r:
                notes.append("%s on %s: %s" % (e, name, r["error"]))
        res["n"] = n
        res["wasm_bytes"] = os.path.getsize(os.path.join(OUT, "wasm", name + ".wasm"))
        results[name] = res

    info.update(load_start=load_start, load_end=loadavg(),
                command="bench/wasi/run.sh " + " ".join(argv) if argv else "bench/wasi/run.sh")
    table = render(results, engines, [(k, sizes[k]) for k in names], info, reps, notes, args.quick)
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
    with open(args.markdown, "w") as f:
        f.write(table + "\n")
    with open(args.json, "w") as f:
        json.dump({"info": info, "engines": engines, "reps": reps, "quick": args.quick, "notes": notes,
                   "results": results}, f, indent=1)
    wrong = any(results[k][e].get("wrong") for k in names for e in engines if results[k].get(e))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
