#!/usr/bin/env python3
"""bench/stack-switching/ab_plugin.py -- A/B of two builds of one plugin (contstacks by default)
under the same weft binary and the same other plugins: each variant gets a temporary plugin folder
of symlinks and an ini naming it, the runs are interleaved (A, B, A, B, ...) so a shared machine's
load hits both alike, and the figure is user+sys CPU time of the whole process (median and min).
Usage: ab_plugin.py --weft build/bin/weft --a OLD.so --b NEW.so [--plugin contstacks]
                    [--cases create:5000000,c10m:10000000] [--reps 8] [-C section.key=value ...]
Python 3 standard library only."""
import argparse, os, resource, shutil, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def make_variant(root, name, weft, plugin, so):
    """A folder with an ini whose plugin_dir holds the build's plugins, `plugin` replaced by `so`."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(weft)))
    conf = os.path.join(build, "conf", "default.ini")
    src_dir = os.path.join(build, "lib", "weft", "plugins")
    d = os.path.join(root, name)
    pd = os.path.join(d, "plugins")
    os.makedirs(pd)
    for f in os.listdir(src_dir):
        if f.endswith(".so") and f != plugin + ".so":
            os.symlink(os.path.join(src_dir, f), os.path.join(pd, f))
    os.symlink(os.path.abspath(so), os.path.join(pd, plugin + ".so"))
    ini = os.path.join(d, "weft.ini")
    with open(conf) as fin, open(ini, "w") as fout:
        for line in fin:
            fout.write("plugin_dir = plugins\n" if line.startswith("plugin_dir") else line)
    return ini


def cpu_run(cmd):
    """User+sys CPU seconds of one child run and its last output line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr.strip()))
    out = p.stdout.strip().splitlines()
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out[-1] if out else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--a", required=True, help="the baseline .so")
    ap.add_argument("--b", required=True, help="the candidate .so")
    ap.add_argument("--plugin", default="contstacks")
    ap.add_argument("--cases", default="create:5000000,c10m:10000000")
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("-C", action="append", default=[], help="config override for both variants")
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="weft-ab-")
    try:
        inis = {v: make_variant(root, v, a.weft, a.plugin, so) for v, so in (("A", a.a), ("B", a.b))}
        over = [x for c in a.C for x in ("-C", c)]
        print("| case | n | A median / min s | B median / min s | B/A (median) |")
        print("|---|---|---|---|---|")
        for spec in a.cases.split(","):
            case, n = spec.split(":")
            wasm = os.path.join(HERE, case + ".wasm")
            t = {"A": [], "B": []}
            check = {}
            for _ in range(a.reps):
                for v in ("A", "B"):
                    dt, last = cpu_run([a.weft, "run", "-c", inis[v]] + over + ["--invoke", "run", wasm, n])
                    t[v].append(dt)
                    check.setdefault(v, last)
                    if last != check[v]:
                        sys.exit("%s: output changed between runs of %s" % (case, v))
            if check["A"] != check["B"]:
                sys.exit("%s: A printed %s, B printed %s" % (case, check["A"], check["B"]))
            ma, mb = statistics.median(t["A"]), statistics.median(t["B"])
            print("| %s | %s | %.3f / %.3f | %.3f / %.3f | %.2f |" % (case, n, ma, min(t["A"]), mb, min(t["B"]),
                                                                   mb / ma if ma else 0.0))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
