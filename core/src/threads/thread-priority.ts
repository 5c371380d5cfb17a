/**
 * Background threads of the host (the row writer, scrypt) run at a lower
 * scheduling priority than the threads that answer SIP. On a machine with
 * few cores, a full-text merge or a password hash then waits while the SIP
 * threads have work, instead of taking a core from them for tens of
 * milliseconds (Linux's scheduler shares a busy core by weight: nice 10 has
 * about a tenth of nice 0's). Lowering one's own priority needs no privilege.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** How much lower than the host's own threads background work runs (nice value added). */
export const BACKGROUND_NICE = 10;

/**
 * Lower the calling thread's priority (Linux: setpriority on the thread id,
 * read from /proc/thread-self). Elsewhere, or if refused, nothing changes.
 * Returns whether it was lowered.
 */
export function lowerThisThreadPriority(nice = BACKGROUND_NICE): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
