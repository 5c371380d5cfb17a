/**
 * `runtime.compactWhenIdle`: give memory back after a burst, once the thread
 * is quiet.
 *
 * A burst (a storm of SUBSCRIBEs, a REGISTER peak) leaves V8's old space
 * full of holes: objects that lived a few seconds (transactions, answered
 * requests kept for Timer J) were promoted beside objects that stay
 * (dialogs, subscriptions, bindings), and died. An ordinary full GC frees
 * them but keeps the pages that still hold anything; V8 only compacts those
 * pages a few megabytes at a time, and its own memory reducer may run while
 * the burst's short-lived objects are still alive. The process then stays
 * at its peak size for good.
 *
 * This watches one thread (each thread runs its own): every `intervalMs` it
 * reads the event loop's utilisation; after `idleIntervals` quiet intervals
 * in a row, and only if V8's heap has grown enough since the last
 * compaction (`minGrowthBytes`, or `relativeGrowth` of its size when that is
 * at least `relativeFloorBytes`: a small host's heap matters as much to it),
 * it runs one full collection that compacts every page it can and gives the
 * free ones back (see compactNow), and one more `followUpMs` later (what was
 * in flight during the burst has died by then; and again after each that
 * still gave back much, as when the burst went on at a pace the thread
 * took for quiet). And once when what a burst leaves in flight has drained
 * (`inFlight`: the SIP engine's transactions and the answers it keeps for
 * Timer J; `drainedBelow` of its peak since the last compaction, from at
 * least `drainFrom`): that is when the burst's garbage is all garbage, 32 s
 * after its last request, and compacting then brings the thread down to
 * what it keeps at rest instead of at a time that depends on where the
 * interval fell. With `afterStart`, the first
 * quiet stretch after start-up counts as the end of a burst too (loading
 * and compiling the host's modules leaves the same holes). It never runs
 * while the thread is busy, and not again while the heap does not grow.
 *
 * After each compaction the C library's freed memory goes back too
 * (malloc-trim.ts): glibc otherwise keeps what the burst freed (buffers, the
 * compilers' scratch memory) resident in its arenas.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mallocTrim } from './malloc-trim.ts';

export interface IdleCompactionOptions {
  /** How often the thread's load is read (ms). */
  intervalMs: number;
  /** Quiet intervals in a row before compacting. */
  idleIntervals: number;
  /** Event loop utilisation (0–1) below which an interval counts as quiet. */
  idleBelow: number;
  /** Growth of V8's committed heap since the last compaction (or the start) that makes one worth it whatever the heap's size (bytes). */
  minGrowthBytes: number;
  /** Growth, as a share of the heap's size then, that makes one worth it too, when it is at least `relativeFloorBytes`. */
  relativeGrowth: number;
  relativeFloorBytes: number;
  /** Compact once at the first quiet stretch after start-up. */
  afterStart: boolean;
  /**
   * One more compaction this long after one that growth called for, when
   * quiet: what the burst left in flight (SIP keeps transactions and answers
   * for 64*T1, 32 s) dies after the first one and leaves holes of its own.
   */
  followUpMs: number;
  /**
   * What a burst leaves in flight on this thread (the SIP engine's transactions
   * and the answers it keeps for Timer J), read each interval; none when unset.
   */
  inFlight?: () => number;
  /** In flight at or above this since the last compaction (a burst) makes its draining worth a compaction. */
  drainFrom: number;
  /** Drained: in flight at or below this share of its peak since the last compaction. */
  drainedBelow: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_IDLE_COMPACTION: IdleCompactionOptions = {
  intervalMs: 2000,
  idleIntervals: 5,
  idleBelow: 0.1,
  minGrowthBytes: 32 * MiB,
  relativeGrowth: 0.25,
  relativeFloorBytes: 8 * MiB,
  afterStart: true,
  followUpMs: 40_000,
  drainFrom: 256,
  drainedBelow: 0.05,
};

/** Whether what was in flight (`peak` at most since the last compaction, `now` now) has drained enough for a compaction (see IdleCompactionOptions). */
export function drained(peak: number, now: number, o: Pick<IdleCompactionOptions, 'drainFrom' | 'drainedBelow'>): boolean {
  return peak >= o.drainFrom && now <= peak * o.drainedBelow;
}

/** Whether a heap that went from `baseline` to `total` bytes has grown enough for a compaction (see IdleCompactionOptions). */
export function grewEnough(baseline: number, total: number, o: Pick<IdleCompactionOptions, 'minGrowthBytes' | 'relativeGrowth' | 'relativeFloorBytes'>): boolean {
  const growth = total - baseline;
  return growth >= o.minGrowthBytes || (growth >= o.relativeFloorBytes && growth >= baseline * o.relativeGrowth);
}

type Collect = () => void;

let collect: Collect | undefined;
let collectTried = false;

/**
 * V8's gc(), on this thread, without running the whole process with
 * --expose-gc: the flag is set just long enough for a new context to get
 * the function. Undefined where that is refused.
 */
function gcFunction(): Collect | undefined {
  if (collectTried) return collect;
  collectTried = true;
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (exposed) return (collect = exposed);
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  } catch {
    collect = undefined;
  } finally {
    try {
      setFlagsFromString('--no-expose-gc');
    } catch {
      // the flag stays; nothing else depends on it
    }
  }
  return typeof collect === 'function' ? collect : undefined;
}

/**
 * One full collection that compacts every page it can (V8 otherwise moves
 * only a few megabytes per collection): V8's --compact-on-every-full-gc,
 * set for this one collection. (gc()'s `flavor: 'last-resort'` option does
 * nothing on Node 20's V8: measured, a scavenge at most.)
 */
function compactNow(gc: Collect): void {
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** This thread's heap compacted now, when gc can be reached (bench readings, diagnostics); false when it cannot. */
export function compactHeapNow(): boolean {
  const gc = gcFunction();
  if (!gc) return false;
  compactNow(gc);
  return true;
}

export interface IdleCompaction {
  /** Compactions run so far, the committed heap before and after the last one (bytes), and whether C memory went back after it. */
  stats(): { compactions: number; lastBefore?: number; lastAfter?: number; lastTrimmed?: boolean };
  stop(): void;
}

/** What one compaction did: V8's committed heap before and after (bytes), how long it took, whether freed C memory went back (undefined: not available here). */
export interface Compacted {
  before: number;
  after: number;
  ms: number;
  trimmed: boolean | undefined;
}

/** Watch this thread and compact its heap when it goes quiet after growing (see the module comment). */
export function startIdleCompaction(options: Partial<IdleCompactionOptions> = {}, onCompacted?: (done: Compacted) => void): IdleCompaction {
  const o = { ...DEFAULT_IDLE_COMPACTION, ...options };
  const gc = gcFunction();
  let compactions = 0;
  let last: Compacted | undefined;
  let baseline = getHeapStatistics().total_heap_size;
  let quiet = 0;
  /** When the next compaction is due without growth: the follow-up after one that growth called for, or the first after start-up. */
  let followUpAt: number | undefined = o.afterStart ? 0 : undefined;
  let prev: EventLoopUtilization = performance.eventLoopUtilization();
  /** The most in flight since the last compaction. */
  let inFlightPeak = 0;
  const timer = gc
    ? setInterval(() => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, prev).utilization;
      prev = now;
      quiet = busy < o.idleBelow ? quiet + 1 : 0;
      const inFlight = o.inFlight?.() ?? 0;
      if (inFlight > inFlightPeak) inFlightPeak = inFlight;
      const total = getHeapStatistics().total_heap_size;
      // Shrinking on its own (V8's reducer did it): that is the new baseline.
      if (total < baseline) baseline = total;
      // A burst that drained needs no quiet stretch of its own: nothing of it is left.
      const burstDrained = drained(inFlightPeak, inFlight, o) && busy < o.idleBelow;
      if (quiet < o.idleIntervals && !burstDrained) return;
      const grew = grewEnough(baseline, total, o);
      const followUp = followUpAt !== undefined && Date.now() >= followUpAt;
      if (!grew && !followUp && !burstDrained) return;
      const started = performance.now();
      compactNow(gc);
      const after = getHeapStatistics().total_heap_size;
      // Once more later after one that growth called for, or one that still found much to give
      // back (the burst went on at a pace the thread took for quiet): until one finds little.
      followUpAt = grew || total - after >= Math.max(MiB, total * 0.02) ? Date.now() + o.followUpMs : undefined;
      const trimmed = mallocTrim();
      compactions++;
      last = { before: total, after, ms: performance.now() - started, trimmed };
      baseline = after;
      quiet = 0;
      inFlightPeak = inFlight;
      // The collection itself is busy time; start the next reading after it.
      prev = performance.eventLoopUtilization();
      onCompacted?.(last);
    }, o.intervalMs)
    : undefined;
  timer?.unref();
  return {
    stats: () => ({ compactions, ...(last ? { lastBefore: last.before, lastAfter: last.after } : {}), ...(last?.trimmed !== undefined ? { lastTrimmed: last.trimmed } : {}) }),
    stop: () => clearInterval(timer),
  };
}

/** A compaction as log fields (MiB, one decimal). */
export function compactionFields(thread: string, done: Compacted): Record<string, string | number | boolean> {
  const mib = (n: number) => Math.round(n / 104857.6) / 10;
  return {
    thread, heapBeforeMiB: mib(done.before), heapAfterMiB: mib(done.after), ms: Math.round(done.ms),
    ...(done.trimmed !== undefined ? { mallocTrimmed: done.trimmed } : {}),
  };
}
