// runtime.youngGeneration: with "small", V8's young generation keeps its
// start size under a load that makes it grow to 32 MiB by default, on the
// main thread and on a worker started afterwards with the limits the core's
// workers get. The V8 flag belongs to
// the process, so each case runs in a child process of its own.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../src/threads/young-generation.ts', import.meta.url));

const CHILD = `
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { applyYoungGeneration, keepYoungGenerationSmall, workerResourceLimits } from ${JSON.stringify(MODULE)};
const applied = applyYoungGeneration(process.argv[2]);
// Objects that survive a scavenge or two: what makes V8 grow its semi-spaces. Returns the new space's size in MiB.
const churn = \`
  const keep = [];
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 50000; i++) keep.push({ a: i, b: 'x' + i, c: [i] });
    if (keep.length > 600000) keep.splice(0, 300000);
  }
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
\`;
const worker = await new Promise((resolve, reject) => {
  const code = 'const v8 = require("node:v8"); require("node:worker_threads").parentPort.postMessage(new Function("v8", ' + JSON.stringify(churn) + ')(v8));';
  const w = new Worker(code, { eval: true, resourceLimits: workerResourceLimits() });
  keepYoungGenerationSmall(w);
  w.once('message', resolve);
  w.once('error', reject);
});
// After a worker started: starting one sets V8's flags again (keepYoungGenerationSmall puts the factor back).
const main = new Function('v8', churn)(v8);
console.log(JSON.stringify({ applied, main, worker }));
`;

const dir = mkdtempSync(join(tmpdir(), 'young-generation-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'child.mts');
writeFileSync(script, CHILD);

function run(mode: string): { applied: boolean; main: number; worker: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

t.test('grow: the young generation grows under load', async (t) => {
  const r = run('grow');
  t.equal(r.applied, false);
  t.ok(r.main >= 8, `main thread new space ${r.main} MiB`);
  t.ok(r.worker >= 8, `worker new space ${r.worker} MiB`);
});

t.test('small: it keeps its start size, on the main thread and on a worker', async (t) => {
  const r = run('small');
  t.equal(r.applied, true);
  // The main thread keeps what it had when the flag was set (tsx's start grows it a step).
  t.ok(r.main <= 4, `main thread new space ${r.main} MiB`);
  t.ok(r.worker <= 3, `worker new space ${r.worker} MiB`);
});
