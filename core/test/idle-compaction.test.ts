// runtime.compactWhenIdle (core/src/threads/idle-compaction.ts): a thread
// whose heap grew in a burst and then went quiet compacts it, and gives the
// pages back, and once more when what was in flight has died; it does not
// while the thread is busy, nor again while the heap does not grow; gc stays hidden from the host's code. Each case runs in
// a child process of its own, without --expose-gc, as a host runs.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../src/threads/idle-compaction.ts', import.meta.url));

const CHILD = `
import v8 from 'node:v8';
import { startIdleCompaction } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const total = () => v8.getHeapStatistics().total_heap_size;
const events = [];
const watch = startIdleCompaction({ intervalMs: 100, idleIntervals: 3, minGrowthBytes: 16 * 1024 * 1024, followUpMs: 2000 }, (before, after, ms) => events.push({ before, after, ms }));
const start = total();
// A burst: long-lived objects promoted between short-lived ones that live a while (as transactions do), then die.
const keep = [];
let temp = [];
// What is still in flight when the burst ends and dies later (transactions kept for 64*T1).
let inFlight = [];
for (let round = 0; round < 40; round++) {
  for (let i = 0; i < 20000; i++) {
    const o = { id: round * 20000 + i, name: 'subscription-' + i, tags: [i, round] };
    if (i % 10 === 0) keep.push(o); else if (i % 10 === 5) inFlight.push(o); else temp.push(o);
  }
  await new Promise((r) => setImmediate(r));
}
// Busy for a second (the event loop never idle): no compaction however large the heap.
const busyUntil = Date.now() + 1000;
while (Date.now() < busyUntil) {
  const spin = Date.now() + 20;
  while (Date.now() < spin) temp.length;
  await new Promise((r) => setImmediate(r));
}
const duringBusy = events.length;
temp = undefined;
const peak = total();
await sleep(1000);
const afterIdle = events.length;
const quiet = total();
inFlight = undefined;
// The follow-up, two seconds after the first: the holes of what was in flight.
await sleep(2200);
const followUp = events.length;
// Quiet, same size: not again.
await sleep(1500);
watch.stop();
console.log(JSON.stringify({ start, peak, quiet, duringBusy, afterIdle, followUp, again: events.length, events, stats: watch.stats(), kept: keep.length, gcHidden: typeof globalThis.gc === 'undefined' }));
`;

const dir = mkdtempSync(join(tmpdir(), 'idle-compaction-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'child.mts');
writeFileSync(script, CHILD);

t.test('a thread that grew and went quiet compacts once, never while busy', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    start: number; peak: number; quiet: number; duringBusy: number; afterIdle: number; followUp: number; again: number;
    events: Array<{ before: number; after: number; ms: number }>; stats: { compactions: number; lastBefore?: number; lastAfter?: number }; kept: number; gcHidden: boolean;
  };
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  t.ok(out.peak - out.start > 16 * 1048576, `the burst grew the heap (${mib(out.start)} → ${mib(out.peak)})`);
  t.equal(out.duringBusy, 0, 'no compaction while the event loop is busy');
  t.equal(out.afterIdle, 1, 'one compaction once quiet');
  // A plain full collection leaves about 70 % of it here: this one compacts.
  t.ok(out.events[0]!.after < out.events[0]!.before / 2, `it compacted and gave pages back (${mib(out.events[0]!.before)} → ${mib(out.events[0]!.after)}, ${out.events[0]!.ms.toFixed(0)} ms)`);
  t.ok(out.quiet < out.peak, `the heap is smaller than at the burst's end (${mib(out.quiet)})`);
  t.equal(out.followUp, 2, 'a follow-up once what was in flight has died');
  t.ok(out.events[1]!.after < out.events[1]!.before, `it gave those pages back too (${mib(out.events[1]!.before)} → ${mib(out.events[1]!.after)})`);
  t.equal(out.again, 2, 'not again while the heap does not grow');
  t.same([out.stats.compactions, out.stats.lastBefore, out.stats.lastAfter], [2, out.events[1]!.before, out.events[1]!.after], 'stats() tells the same');
  t.equal(out.kept, 80000, 'what was kept is still there');
  t.ok(out.gcHidden, 'gc is not left on the global object');
});
