// core/native (switchboard_malloc.node, built by core's install script) and
// core/src/threads/malloc-trim.ts: on this machine (Linux, glibc) the module
// is there, and malloc_trim gives back memory glibc kept after it was freed.
// The case runs in a child process of its own so its RSS is its own.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mallocTrim, mallocTrimAvailable } from '../src/threads/malloc-trim.ts';

const MODULE = fileURLToPath(new URL('../src/threads/malloc-trim.ts', import.meta.url));

const CHILD = `
import { readFileSync } from 'node:fs';
import { mallocTrim } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const anonKb = () => Number(/^RssAnon:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
// 64 MiB in 64 KiB blocks (under glibc's mmap threshold: they come from its arenas), one in 16 kept,
// so the freed ones lie between live ones and the arena's top never comes free.
let blocks = [];
for (let i = 0; i < 1024; i++) blocks.push(new Uint8Array(new ArrayBuffer(64 * 1024)).fill(i & 255));
const kept = blocks.filter((_, i) => i % 16 === 15);
blocks = undefined;
gc(); gc();
await sleep(300);
const freed = anonKb();
const trimmed = mallocTrim();
await sleep(100);
const after = anonKb();
console.log(JSON.stringify({ freed, after, trimmed, kept: kept.length, intact: kept.every((b, j) => b[0] === ((j * 16 + 15) & 255)) }));
`;

t.test('the module is there (Linux, glibc) and answers', async (t) => {
  t.equal(mallocTrimAvailable(), true, 'core/native/build/Release/switchboard_malloc.node loads (run "npm rebuild @switchboard/core" if not)');
  t.type(mallocTrim(), 'boolean', 'trim() answers true or false');
});

t.test('freed C memory between live blocks goes back to the system', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'malloc-trim-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'child.mts');
  writeFileSync(script, CHILD);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { freed: number; after: number; trimmed: boolean; kept: number; intact: boolean };
  t.equal(out.trimmed, true, 'malloc_trim says it gave memory back');
  // 60 MiB were freed; glibc kept them resident until the trim.
  t.ok(out.freed - out.after > 40 * 1024, `anonymous RSS fell by more than 40 MiB (${(out.freed / 1024).toFixed(1)} → ${(out.after / 1024).toFixed(1)} MiB)`);
  t.same([out.kept, out.intact], [64, true], 'the blocks still in use are intact');
});

// A worker thread's arena: scrypt's 16 MiB block, mapped and freed, makes
// glibc raise its thresholds (mmap 16 MiB, trim 32 MiB), so the next
// scrypt's 12 MiB block comes from the thread's arena and, freed, stays there
// as its top, which malloc_trim does not reach. With the thresholds fixed
// first, that block is mapped on its own too and goes back when freed. (The
// host's scrypt thread for HTTP sign-in does just this.)
const THREAD_CHILD = `
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fixMallocThresholds, mallocTrim } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const anonKb = () => Number(/^RssAnon:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const fixed = process.argv[2] === 'fixed' ? fixMallocThresholds(128 * 1024) : undefined;
const worker = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const { scryptSync } = require('node:crypto');
  // scrypt's block (128 * r * N bytes) is one malloc and free of OpenSSL's, done before scryptSync returns.
  scryptSync('password', 'salt', 32, { N: 16384, r: 8, p: 1 });
  scryptSync('password', 'salt', 32, { N: 16384, r: 6, p: 1 });
  parentPort.postMessage('done');
  parentPort.on('message', () => process.exit(0));
\`, { eval: true });
await new Promise((r) => worker.once('message', r));
const before = anonKb();
mallocTrim();
await sleep(100);
const after = anonKb();
worker.postMessage('stop');
console.log(JSON.stringify({ fixed, before, after }));
`;

t.test('fixed thresholds: a worker thread\'s freed blocks leave its arena', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'malloc-thresholds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'child.mts');
  writeFileSync(script, THREAD_CHILD);
  const run = (mode: string): { fixed?: boolean; before: number; after: number } => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const dynamic = run('dynamic');
  const fixed = run('fixed');
  t.equal(fixed.fixed, true, 'glibc took both thresholds');
  t.ok(dynamic.after - fixed.after > 8 * 1024,
    `with the thresholds fixed, the 12 MiB block left when it was freed: at least 8 MiB less resident after malloc_trim (glibc's own thresholds: ${(dynamic.after / 1024).toFixed(1)} MiB, fixed: ${(fixed.after / 1024).toFixed(1)} MiB)`);
});

t.test('fixThresholds refuses what glibc cannot take', async (t) => {
  const { fixMallocThresholds } = await import('../src/threads/malloc-trim.ts');
  t.throws(() => fixMallocThresholds(1024), /4096 to 33554432/, 'under a page');
  t.throws(() => fixMallocThresholds(64 * 1024 * 1024), /4096 to 33554432/, 'over 32 MiB');
});
