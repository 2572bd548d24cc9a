// The JS mirror with an edit pending (issue 10): a kernel patch, a view edit and the memory
// held, each beside the same mirror with nothing pending, at 10k, 100k and 1M rows.
//
//     node --expose-gc benchmarks/mirror.mjs [--sizes 10000 100000 1000000] [--repeats 5]
//
// It bundles js/src/core with the esbuild that `make setup` installs (js/node_modules).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const esbuild = createRequire(join(root, 'js', 'package.json'))('esbuild');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const values = [];
  for (const arg of process.argv.slice(at + 1)) {
    if (arg.startsWith('--')) break;
    values.push(Number(arg));
  }
  return values;
}

const sizes = option('--sizes', [10_000, 100_000, 1_000_000]);
const [repeats] = option('--repeats', [5]);

async function loadCore() {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-mirror-'));
  const outfile = join(dir, 'core.mjs');
  await esbuild.build({
    entryPoints: [join(root, 'js', 'src', 'core', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'error'
  });
  const core = await import(pathToFileURL(outfile).href);
  rmSync(dir, { recursive: true });
  return core;
}

const { Mirror } = await loadCore();

function rows(n) {
  return Array.from({ length: n }, (_, i) => ({ id: i, name: `row ${i}`, value: i / 2, done: false }));
}

function newMirror(n) {
  const mirror = new Mirror({ modelId: 'm', clientId: 'c', state: { rows: rows(n) }, version: 0, send: () => {} });
  mirror.on('change', () => {});
  return mirror;
}

function kernelPatch(mirror, row) {
  mirror.handleMessage({
    method: 'patch',
    version: mirror.version + 1,
    ops: [{ op: 'replace', path: `/rows/${row}/value`, value: row }]
  });
}

/** 100 kernel patches, each of one field of a row spread over the list. */
function hundredPatches(mirror) {
  const rowCount = mirror.get('rows').length;
  for (let i = 1; i <= 100; i++) kernelPatch(mirror, Math.floor((i * rowCount) / 101));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds of `work`, the median of `repeats` runs, each on its own mirror. */
function timed(n, prepare, work) {
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const mirror = newMirror(n);
    prepare(mirror);
    const start = performance.now();
    work(mirror);
    times.push(performance.now() - start);
  }
  return median(times);
}

function heapWith(n, prepare) {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const mirror = newMirror(n);
  prepare(mirror);
  globalThis.gc?.();
  const used = process.memoryUsage().heapUsed - before;
  mirror.patch([]); // the mirror stays alive until it has been measured
  return used;
}

const edit = mirror => mirror.patch([{ op: 'replace', path: '/rows/7/done', value: true }]);
// Each mirror has applied one kernel patch first, so that first-use costs are not timed.
const settled = mirror => kernelPatch(mirror, 0);
const pending = mirror => {
  settled(mirror);
  edit(mirror);
};

timed(10_000, pending, m => kernelPatch(m, 1)); // warm up the JIT before anything is timed
const lines = [];
const goals = [];
for (const n of sizes) {
  const patchIdle = timed(n, settled, hundredPatches) / 100;
  const patchPending = timed(n, pending, hundredPatches) / 100;
  const viewEdit = timed(n, settled, edit);
  const heapIdle = heapWith(n, settled);
  const heapPending = heapWith(n, pending);
  lines.push([n, patchIdle, patchPending, viewEdit, heapIdle / 2 ** 20, heapPending / 2 ** 20]);
  const rowsText = n.toLocaleString('en');
  goals.push([`kernel patch with an edit pending <= 2x without`, rowsText, patchPending / patchIdle, 2, n]);
  goals.push([`memory with an edit pending <= 1.1x without`, rowsText, heapPending / heapIdle, 1.1, n]);
  goals.push([`view edit <= 1 ms`, rowsText, viewEdit, 1, n]);
}

const pad = (text, width) => String(text).padStart(width);
console.log(`JS mirror (js/src/core), medians of ${repeats}; Node ${process.version}${globalThis.gc ? '' : ' (run with --expose-gc for memory)'}`);
console.log('     rows  patch ms  patch ms, edit pending  view edit ms  heap MiB  heap MiB, edit pending');
for (const [n, a, b, c, d, e] of lines) {
  console.log(`${pad(n.toLocaleString('en'), 9)}  ${pad(a.toFixed(3), 8)}  ${pad(b.toFixed(3), 22)}  ${pad(c.toFixed(3), 12)}  ${pad(d.toFixed(1), 8)}  ${pad(e.toFixed(1), 22)}`);
}
// The goals are stated at 1M rows; at other sizes the verdict is in parentheses.
console.log('\ngoal                                               rows    ratio  verdict');
for (const [name, rowsText, value, goal, n] of goals) {
  const verdict = value <= goal ? 'PASS' : 'MISS';
  const shown = n === 1_000_000 ? verdict : `(${verdict})`;
  console.log(`${name.padEnd(48)} ${pad(rowsText, 9)}  ${pad(value.toFixed(3), 7)}  ${shown}`);
}
