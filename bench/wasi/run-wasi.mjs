// bench/wasi/run-wasi.mjs -- V8 runner for the WASI benchmark: node run-wasi.mjs PROG.wasm [ARGS...]
// Runs a wasm32-wasi command module through Node's node:wasi (preview1): argv is PROG.wasm then ARGS,
// no environment, no preopened directories, stdio on the process's fds 0-2. The process exits with the
// code the guest passed to proc_exit (0 when _start returns). Used by bench/wasi/run.py with V8 flags
// (--liftoff-only, ...) placed before this file on the node command line. Depends on Node >= 20.
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node run-wasi.mjs PROG.wasm [ARGS...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
