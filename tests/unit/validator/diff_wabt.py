#!/usr/bin/env python3
"""tests/unit/validator/diff_wabt.py -- differential check of `weft validate` against wabt's wasm-validate.

Usage: MUT_IN=module.wasm diff_wabt.py SEED COUNT   (env WEFT, WEFT_CONF: the weft binary and an ini
that loads the validator). Flips 1-3 random bytes inside the code section COUNT times and reports
every module one tool accepts and the other rejects, and any weft crash. Not a ctest: wabt lacks the
GC and stack-switching proposals, so it only judges MVP-era code. Inputs: any clang --target=wasm32
output.
"""
import os, random, subprocess, sys
data=open(os.environ.get('MUT_IN','v_2.wasm'),'rb').read()
def uleb(b,p):
    r=0;sh=0
    while True:
        x=b[p];p+=1;r|=(x&0x7f)<<sh;sh+=7
        if not x&0x80: return r,p
p=8;code=None
while p<len(data):
    sid=data[p];sz,q=uleb(data,p+1)
    if sid==10: code=(q,q+sz)
    p=q+sz
lo,hi=code
rng=random.Random(int(sys.argv[1]) if len(sys.argv)>1 else 1)
diff=[]
N=int(sys.argv[2]) if len(sys.argv)>2 else 300
crash=0
for it in range(N):
    b=bytearray(data)
    # mutate inside the code section
    for _ in range(rng.randint(1,3)):
        pos=rng.randrange(lo,hi)
        b[pos]=rng.randrange(256)
    open('m.wasm','wb').write(b)
    w=subprocess.run(['wasm-validate','--enable-all','m.wasm'],capture_output=True,text=True)
    v=subprocess.run([os.environ.get('WEFT','weft'),'validate','-c',os.environ.get('WEFT_CONF','conf.ini'),'m.wasm'],capture_output=True,text=True)
    if v.returncode not in (0,1): crash+=1; open('crash_%d.wasm'%it,'wb').write(b); print('CRASH',it,v.returncode,v.stderr[:200])
    if (w.returncode==0)!=(v.returncode==0):
        diff.append(it); open('diff_%d.wasm'%it,'wb').write(b)
        print(it,'wabt',w.returncode,w.stderr.strip()[:150].replace('\n',' | '),'|| weft',v.returncode,(v.stderr+v.stdout).strip()[:200])
print('diffs',len(diff),'crashes',crash)
