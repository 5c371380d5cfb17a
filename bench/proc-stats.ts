// CPU time and peak memory of processes, read from /proc (Linux only), so
// Kamailio's C processes and the engine's node process are measured the
// same way.
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux build this runs on. */
const CLK_TCK = 100;

/** utime + stime of one process in ms, or 0 if it is gone. */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) of one process in KiB, or 0 if it is gone. */
export function peakRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The direct children of `pid` (Kamailio's workers are all children of its main process). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // The process ended while we were listing; skip it.
    }
  }
  return out;
}

/** Sum of CPU ms over a set of processes. */
export function totalCpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0);
}

/**
 * Sum of VmHWM over a set of processes, KiB. For multi-process servers this
 * counts shared memory once per process that touched it, so it overstates;
 * the benchmark README says so.
 */
export function totalPeakRssKb(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + peakRssKb(pid), 0);
}

/** Resident memory of one process now, split so shared memory can be counted once. */
function residentKb(pid: number): { privateKb: number; sharedKb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
    return { privateKb: field('RssAnon') + field('RssFile'), sharedKb: field('RssShmem') };
  } catch {
    return { privateKb: 0, sharedKb: 0 };
  }
}

/**
 * Samples the resident memory of a set of processes every `everyMs` and keeps
 * the peak of: sum of private resident memory + the largest shared resident
 * memory (Kamailio's processes all map one shared pool, which VmHWM would
 * count once per process).
 */
export class MemorySampler {
  readonly #pids: number[];
  readonly #timer: NodeJS.Timeout;
  #peakKb = 0;

  constructor(pids: number[], everyMs = 250) {
    this.#pids = pids;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  #sample(): void {
    let privateKb = 0;
    let sharedKb = 0;
    for (const pid of this.#pids) {
      const r = residentKb(pid);
      privateKb += r.privateKb;
      sharedKb = Math.max(sharedKb, r.sharedKb);
    }
    this.#peakKb = Math.max(this.#peakKb, privateKb + sharedKb);
  }

  /** Stops sampling (after one last sample) and returns the peak, KiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peakKb;
  }
}

/**
 * Follows the CPU time of a process that will exit on its own (sipp), by
 * polling: once it is gone /proc no longer has it, so the last reading stands.
 */
export class CpuWatcher {
  #pid = -1;
  #lastMs = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(everyMs = 100) {
    this.#timer = setInterval(() => this.#read(), everyMs);
  }

  watch(pid: number): void {
    this.#pid = pid;
  }

  #read(): void {
    if (this.#pid < 0) return;
    const ms = cpuTimeMs(this.#pid);
    if (ms > 0) this.#lastMs = ms;
  }

  /** Stops polling and returns the last CPU time seen, ms. */
  stop(): number {
    clearInterval(this.#timer);
    return this.#lastMs;
  }
}
