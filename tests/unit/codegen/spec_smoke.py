#!/usr/bin/env python3
# tests/unit/codegen/spec_smoke.py -- a stand-alone smoke check of the x64 code generator against
# stateless spec assertions, before the project's `weft wast` exists: wast2json splits a .wast into
# modules and commands; each assert_return / assert_trap on an invoke becomes one
# `weft run --invoke` (a fresh instance each time, so scripts that rely on state across actions
# report failures that are not codegen bugs). Not a ctest. Depends on: wabt's wast2json, bin/weft.
# usage: spec_smoke.py WEFT_BINARY FILE.wast... [-v]
import json, math, os, struct, subprocess, sys, tempfile

def f32_text(bits):
    bits = int(bits)
    if (bits >> 23) & 0xFF == 0xFF and bits & 0x7FFFFF:
        return ('-' if bits >> 31 else '') + 'nan(0x%x)' % (bits & 0x7FFFFF)
    return struct.unpack('<f', struct.pack('<I', bits))[0].hex()

def f64_text(bits):
    bits = int(bits)
    if (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1):
        return ('-' if bits >> 63 else '') + 'nan(0x%x)' % (bits & ((1 << 52) - 1))
    return struct.unpack('<d', struct.pack('<Q', bits))[0].hex()

def arg_text(a):
    t, v = a['type'], a['value']
    if t == 'i32': return str(int(v) - (1 << 32) if int(v) >= 1 << 31 else int(v))
    if t == 'i64': return str(int(v))
    if t == 'f32': return f32_text(v)
    if t == 'f64': return f64_text(v)
    raise ValueError(t)

def matches(exp, line):
    t, v = exp['type'], exp.get('value')
    if not line.startswith(t + ':'): return False
    got = line[len(t) + 1:]
    if t in ('i32', 'i64'):
        bits = 32 if t == 'i32' else 64
        return int(got) % (1 << bits) == int(v) % (1 << bits)
    if t in ('f32', 'f64'):
        if v.startswith('nan:') or 'nan' in got:
            isnan = lambda s: 'nan' in s
            if v.startswith('nan:'): return isnan(got)
        g = float(got)
        if t == 'f32':
            gb = struct.unpack('<I', struct.pack('<f', g))[0]
            vb = int(v)
            if (vb >> 23) & 0xFF == 0xFF and vb & 0x7FFFFF: return math.isnan(g)
            return gb == vb
        gb = struct.unpack('<Q', struct.pack('<d', g))[0]
        vb = int(v)
        if (vb >> 52) & 0x7FF == 0x7FF and vb & ((1 << 52) - 1): return math.isnan(g)
        return gb == vb
    if t in ('funcref', 'externref', 'ref'):
        return (v == 'null') == got.endswith('null')
    return False

def main():
    args = [a for a in sys.argv[1:] if a != '-v']
    verbose = '-v' in sys.argv
    weft, files = args[0], args[1:]
    tot_p = tot_f = 0
    for wast in files:
        p = f = 0
        with tempfile.TemporaryDirectory() as d:
            js = os.path.join(d, 'x.json')
            r = subprocess.run(['wast2json', '--enable-all', wast, '-o', js], capture_output=True, text=True)
            if r.returncode:
                print('%s: wast2json failed' % wast); continue
            cmds = json.load(open(js))['commands']
            cur = None
            for c in cmds:
                if c['type'] == 'module':
                    cur = os.path.join(d, c['filename']) if not c.get('name') else None
                    if c.get('name'): cur = os.path.join(d, c['filename'])
                    continue
                if c['type'] not in ('assert_return', 'assert_trap', 'assert_exhaustion') or cur is None: continue
                a = c['action']
                if a['type'] != 'invoke' or a.get('module'): continue
                try:
                    argv = [weft, 'run', '--invoke', a['field'], cur] + [arg_text(x) for x in a['args']]
                except ValueError:
                    continue
                r = subprocess.run(argv, capture_output=True, text=True)
                ok = False
                if c['type'] == 'assert_return':
                    lines = r.stdout.split()
                    ok = r.returncode == 0 and len(lines) == len(c['expected']) and all(
                        matches(e, l) for e, l in zip(c['expected'], lines))
                else:
                    ok = r.returncode == 134 and c['text'] in r.stderr
                if ok: p += 1
                else:
                    f += 1
                    if verbose:
                        print('  FAIL line %d %s %s -> rc=%d out=%r err=%r want %s' % (
                            c['line'], a['field'], [x.get('value') for x in a['args']], r.returncode,
                            r.stdout.strip(), r.stderr.strip()[:120], c.get('expected', c.get('text'))))
        print('%s: %d passed, %d failed' % (os.path.basename(wast), p, f))
        tot_p += p; tot_f += f
    print('total: %d passed, %d failed' % (tot_p, tot_f))

main()
