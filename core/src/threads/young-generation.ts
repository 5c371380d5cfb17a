/**
 * `runtime.youngGeneration`: how large V8's young generation may grow.
 *
 * New objects are allocated in the young generation and copied out by a
 * scavenge when it fills. Under load V8 doubles its semi-spaces (1 MiB at
 * start) up to 16 MiB each, and keeps them: a host that once took a burst
 * holds about 32 MiB per thread for the rest of its life, whether it is
 * busy or not. `small` keeps them at their start size: scavenges come more
 * often and each is shorter (it copies at most 1 MiB of live objects).
 *
 * The main thread's heap is set up before any of our code runs, so its
 * size cannot be set any more; instead V8's growth factor is set to 1,
 * which it reads each time it would grow: the main thread keeps the size
 * it has when the host starts (1–2 MiB semi-spaces). Worker threads take
 * no notice of that flag; the core's workers (module-worker.ts, scrypt)
 * are started with `resourceLimits` from workerResourceLimits().
 */
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits, Worker } from 'node:worker_threads';

export type YoungGeneration = 'grow' | 'small';

const SMALL_FLAG = '--semi-space-growth-factor=1';

let mainApplied = false;

/** Applies `small` to the process (once: a V8 flag cannot be taken back); true when it is in effect. */
export function applyYoungGeneration(mode: YoungGeneration): boolean {
  if (mode !== 'small' || mainApplied) return mainApplied;
  setFlagsFromString(SMALL_FLAG);
  mainApplied = true;
  return true;
}

/**
 * Call right after `new Worker(…)`: starting a worker sets V8's flags from
 * the command line again, which undoes the growth factor for the whole
 * process (the main thread's young generation then grew to 32 MiB in the
 * REGISTER benchmark). Set again at once and when the worker is online.
 */
export function keepYoungGenerationSmall(worker: Worker): void {
  if (!mainApplied) return;
  setFlagsFromString(SMALL_FLAG);
  worker.once('online', () => setFlagsFromString(SMALL_FLAG));
}

/** V8 sizes a young generation at three semi-spaces (two to copy between, one for large objects). */
const SMALL_YOUNG_GENERATION_MB = 3;

/** `resourceLimits` for a worker started now: a young generation of 1 MiB semi-spaces once `small` is in effect. */
export function workerResourceLimits(): ResourceLimits {
  return mainApplied ? { maxYoungGenerationSizeMb: SMALL_YOUNG_GENERATION_MB } : {};
}
