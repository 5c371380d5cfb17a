/**
 * The C library's freed memory given back to the system, through
 * core/native (switchboard_malloc.node, built by core's install script):
 * glibc keeps freed blocks resident in its arenas, and Node has no call for
 * malloc_trim. The host trims after an idle compaction of its V8 heap
 * (idle-compaction.ts), and at start-up fixes glibc's trim and mmap
 * thresholds (`runtime.mallocThresholdKiB`): malloc_trim does not reach the
 * top of another thread's arena, which glibc gives back only past a
 * threshold that otherwise rises to twice the largest block ever freed (the
 * REGISTER benchmark's host held 15 MiB of free arena tops in four threads).
 * Without the module (not built, or not glibc) the calls answer undefined
 * and nothing else changes.
 */
import { createRequire } from 'node:module';

interface NativeMalloc {
  trim(): boolean;
  fixThresholds(bytes: number): boolean;
  available(): boolean;
}

/** From core/src/threads or core/dist/threads (the bundle keeps the compiled file's URL) to core/native. */
const MODULE_PATH = '../../native/build/Release/switchboard_malloc.node';

let native: NativeMalloc | null | undefined;

function load(): NativeMalloc | null {
  if (native !== undefined) return native;
  try {
    const loaded = createRequire(import.meta.url)(MODULE_PATH) as NativeMalloc;
    native = loaded.available() ? loaded : null;
  } catch {
    native = null;
  }
  return native;
}

/** Whether freed C memory can be given back here (the module is built, the C library is glibc). */
export function mallocTrimAvailable(): boolean {
  return load() !== null;
}

/** malloc_trim(0): true when pages went back, false when none could, undefined where it is not available. */
export function mallocTrim(): boolean | undefined {
  return load()?.trim();
}

/**
 * Fixes glibc's trim and mmap thresholds at `bytes` (as MALLOC_TRIM_THRESHOLD_
 * and MALLOC_MMAP_THRESHOLD_ would at start-up); true when both were taken,
 * undefined where the module is not available.
 */
export function fixMallocThresholds(bytes: number): boolean | undefined {
  return load()?.fixThresholds(bytes);
}
