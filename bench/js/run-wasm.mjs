// bench/js/run-wasm.mjs -- V8 runner for the benchmark harness: node run-wasm.mjs FILE.wasm EXPORT [INT ARGS...]
// Compiles and instantiates the module (no imports), calls the export with integer arguments and prints
// each result as an unsigned 32-bit decimal (i32) or a decimal (i64/BigInt, f32/f64), one per line.
// Used by bench/run.py with V8 flags (--liftoff-only, ...) placed before this file on the node command line.
import { readFileSync } from 'node:fs';

const [file, name, ...args] = process.argv.slice(2);
if (!file || !name) {
  console.error('usage: node run-wasm.mjs FILE.wasm EXPORT [ARGS...]');
  process.exit(2);
}
const bytes = readFileSync(file);
const { instance } = await WebAssembly.instantiate(bytes, {});
const fn = instance.exports[name];
if (typeof fn !== 'function') {
  console.error(`${file}: no exported function "${name}"`);
  process.exit(1);
}
const result = fn(...args.map((a) => Number.parseInt(a, 10)));
const results = Array.isArray(result) ? result : result === undefined ? [] : [result];
for (const r of results) {
  if (typeof r === 'bigint') console.log(r.toString());
  else if (Number.isInteger(r)) console.log(String(r >>> 0));
  else console.log(String(r));
}
