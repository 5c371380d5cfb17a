// runtime.compactWhenIdle (core/src/threads/idle-compaction.ts): a thread
// whose heap grew in a burst and then went quiet compacts it, and gives the
// pages back, and once more when what was in flight has died; it does not
// while the thread is busy, nor again while the heap does not grow; gc stays hidden from the host's code. Each case runs in
// a child process of its own, without --expose-gc, as a host runs.
import t, { type Test } from 'tap';
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
const watch = startIdleCompaction({ intervalMs: 100, idleIntervals: 3, minGrowthBytes: 16 * 1024 * 1024, followUpMs: 2000, afterStart: false }, (done) => events.push(done));
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

/** Runs `source` as a module in a child process of its own (node `args` first) and hands back the JSON of its last line. */
function runChild<T>(t: Test, name: string, source: string, args: string[] = []): T {
  const script = join(dir, name);
  writeFileSync(script, source);
  const r = spawnSync(process.execPath, [...args, '--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

t.test('a thread that grew and went quiet compacts once, never while busy', async (t) => {
  const out = runChild<{
    start: number; peak: number; quiet: number; duringBusy: number; afterIdle: number; followUp: number; again: number;
    events: Array<{ before: number; after: number; ms: number }>; stats: { compactions: number; lastBefore?: number; lastAfter?: number }; kept: number; gcHidden: boolean;
  }>(t, 'child.mts', CHILD);
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

const SMALL_HOST = `
import v8 from 'node:v8';
import { startIdleCompaction } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const total = () => v8.getHeapStatistics().total_heap_size;
const events = [];
const watch = startIdleCompaction({ intervalMs: 100, idleIntervals: 3, followUpMs: 600_000 }, (done) => events.push(done));
const start = total();
// Quiet from the start: the first quiet stretch compacts what start-up left.
await sleep(900);
const afterStart = events.length;
// A small host's burst: about 12 MiB that stays, well under the 32 MiB that counts whatever the size.
const keep = [];
for (let round = 0; round < 12; round++) {
  for (let i = 0; i < 10000; i++) keep.push({ id: round * 10000 + i, name: 'binding-' + i, path: ['a', 'b'] });
  await new Promise((r) => setImmediate(r));
}
const grown = total();
await sleep(900);
const afterGrowth = events.length;
// Quiet, same size: not again (the follow-up is ten minutes away).
await sleep(900);
watch.stop();
console.log(JSON.stringify({ start, grown, afterStart, afterGrowth, again: events.length, events, stats: watch.stats(), kept: keep.length }));
`;

t.test('a small heap: compacted once after start-up, and after growing by a quarter; freed C memory goes back each time', async (t) => {
  // A young generation kept small, as runtime.youngGeneration = "small" does, so the growth is what stays.
  const out = runChild<{
    start: number; grown: number; afterStart: number; afterGrowth: number; again: number;
    events: Array<{ before: number; after: number; ms: number; trimmed?: boolean }>; stats: { compactions: number; lastTrimmed?: boolean }; kept: number;
  }>(t, 'small-host.mts', SMALL_HOST, ['--max-semi-space-size=1']);
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  t.equal(out.afterStart, 1, 'one compaction at the first quiet stretch after start-up');
  t.ok(out.grown - out.events[0]!.after >= 8 * 1048576 && out.grown - out.events[0]!.after < 32 * 1048576,
    `the heap grew by more than a quarter but under 32 MiB (${mib(out.events[0]!.after)} → ${mib(out.grown)})`);
  t.equal(out.afterGrowth, 2, 'that growth called for one more');
  t.equal(out.again, 2, 'not again while the heap does not grow');
  // The native module is built by core's install script; on this (glibc) machine it must be there.
  t.ok(out.events.every((e) => typeof e.trimmed === 'boolean'), 'malloc_trim was reached after each compaction (core/native is built)');
  t.equal(out.stats.compactions, 2, 'stats() counts them');
  t.equal(out.kept, 120000, 'what was kept is still there');
});

t.test('grewEnough: 32 MiB whatever the size; a quarter of a small heap when that is 8 MiB or more', async (t) => {
  const { grewEnough, DEFAULT_IDLE_COMPACTION: o } = await import('../src/threads/idle-compaction.ts');
  const MiB = 1048576;
  t.ok(grewEnough(200 * MiB, 232 * MiB, o), '32 MiB on a large heap');
  t.notOk(grewEnough(200 * MiB, 231 * MiB, o), 'under 32 MiB and under a quarter of a large heap');
  t.ok(grewEnough(24 * MiB, 32 * MiB, o), '8 MiB on a 24 MiB heap (a third)');
  t.notOk(grewEnough(40 * MiB, 49 * MiB, o), '9 MiB on a 40 MiB heap (under a quarter)');
  t.notOk(grewEnough(8 * MiB, 15 * MiB, o), '7 MiB, most of a small heap but under the floor');
  t.notOk(grewEnough(30 * MiB, 20 * MiB, o), 'shrinking');
});

const STILL_GIVING = `
import { startIdleCompaction } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const events = [];
const watch = startIdleCompaction({ intervalMs: 100, idleIntervals: 3, minGrowthBytes: 16 * 1024 * 1024, followUpMs: 1500, afterStart: false }, (done) => events.push(done));
let keep = [];
for (let round = 0; round < 30; round++) {
  for (let i = 0; i < 10000; i++) keep.push({ id: round * 10000 + i, name: 'registration-' + i, path: ['a', 'b'] });
  await new Promise((r) => setImmediate(r));
}
// Quiet: the growth is compacted, and a follow-up is due 1.5 s later.
await sleep(900);
const afterGrowth = events.length;
// Before the follow-up, most of what stayed goes (bindings expiring, say): the follow-up gives much back…
keep = keep.slice(0, 10000);
await sleep(1700);
const afterFollowUp = events.length;
// …so one more comes 1.5 s after it, which finds little: that ends it.
await sleep(1700);
const afterSecond = events.length;
await sleep(1700);
watch.stop();
console.log(JSON.stringify({ afterGrowth, afterFollowUp, afterSecond, end: events.length, events, kept: keep.length }));
`;

t.test('a follow-up that still gave much back is followed by one more, until one finds little', async (t) => {
  const out = runChild<{
    afterGrowth: number; afterFollowUp: number; afterSecond: number; end: number; events: Array<{ before: number; after: number }>; kept: number;
  }>(t, 'still-giving.mts', STILL_GIVING, ['--max-semi-space-size=1']);
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  t.equal(out.afterGrowth, 1, 'the growth compacted once');
  t.equal(out.afterFollowUp, 2, 'the follow-up ran');
  t.ok(out.events[1]!.before - out.events[1]!.after >= 1048576, `and gave much back (${mib(out.events[1]!.before)} → ${mib(out.events[1]!.after)})`);
  t.equal(out.afterSecond, 3, 'so one more ran after it');
  t.ok(out.events[2]!.before - out.events[2]!.after < 1048576, `which found little (${mib(out.events[2]!.before)} → ${mib(out.events[2]!.after)})`);
  t.equal(out.end, 3, 'and none after that');
  t.equal(out.kept, 10000, 'what was kept is still there');
});

const DRAINED = `
import { startIdleCompaction } from ${JSON.stringify(MODULE)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const events = [];
// Growth alone never calls for one here (64 MiB), and no follow-up comes: only the draining can.
let inFlight = [];
const watch = startIdleCompaction({
  intervalMs: 100, idleIntervals: 3, minGrowthBytes: 64 * 1024 * 1024, relativeFloorBytes: 64 * 1024 * 1024, followUpMs: 600_000, afterStart: false,
  inFlight: () => inFlight.length, drainFrom: 1000, drainedBelow: 0.05,
}, (done) => events.push(done));
// A burst's transactions, each a request and its answer kept for Timer J.
for (let round = 0; round < 20; round++) {
  for (let i = 0; i < 5000; i++) inFlight.push({ key: 'z9hG4bK-' + round + '-' + i, response: 'SIP/2.0 200 OK ' + i + ' '.repeat(200) });
  await new Promise((r) => setImmediate(r));
}
// Quiet, but the burst is still in flight: nothing to gain yet.
await sleep(1200);
const whileInFlight = events.length;
// Timer J: 97 % of them go (2,500 of 100,000 left is under 5 % of the peak).
inFlight = inFlight.slice(0, 2500);
await sleep(600);
const afterDrain = events.length;
// Quiet and drained still: not again.
await sleep(1200);
watch.stop();
console.log(JSON.stringify({ whileInFlight, afterDrain, end: events.length, events, left: inFlight.length }));
`;

t.test('a compaction once what a burst left in flight has drained', async (t) => {
  const out = runChild<{ whileInFlight: number; afterDrain: number; end: number; events: Array<{ before: number; after: number }>; left: number }>(
    t, 'drained.mts', DRAINED, ['--max-semi-space-size=1']);
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  t.equal(out.whileInFlight, 0, 'none while the burst is still in flight');
  t.equal(out.afterDrain, 1, 'one within the interval after it drained');
  t.ok(out.events[0]!.before - out.events[0]!.after >= 8 * 1048576, `and it gave the burst's pages back (${mib(out.events[0]!.before)} → ${mib(out.events[0]!.after)})`);
  t.equal(out.end, 1, 'not again while nothing new is in flight');
  t.equal(out.left, 2500, 'what is still in flight is kept');
});

t.test('drained(): from a peak of at least drainFrom down to drainedBelow of it', async (t) => {
  const { drained, DEFAULT_IDLE_COMPACTION: o } = await import('../src/threads/idle-compaction.ts');
  t.same([o.drainFrom, o.drainedBelow], [256, 0.05], 'the defaults');
  t.ok(drained(4000, 0, o), 'all gone');
  t.ok(drained(4000, 200, o), 'five per cent left');
  t.notOk(drained(4000, 201, o), 'more than five per cent left');
  t.notOk(drained(255, 0, o), 'a peak under drainFrom is no burst');
  t.notOk(drained(0, 0, o), 'nothing ever in flight');
});
