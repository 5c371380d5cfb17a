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
