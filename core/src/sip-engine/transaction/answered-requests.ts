/**
 * Non-INVITE server transactions over UDP in their Completed state
 * (RFC 3261 §17.2.2): the final response went out, and for 64*T1 (Timer J)
 * a retransmitted request only gets that response again. That is all such a
 * transaction still does, yet at a thousand requests a second some 32,000
 * of them wait at once; as full transaction objects (options, closures,
 * timers, the slimmed request, a Buffer) they were most of the engine's heap
 * and of what every young-generation GC had to copy. Here one is a key, the
 * response as a one-byte string and where to send it.
 *
 * Every entry waits the same time, so the Map's insertion order is also
 * expiry order: one timer, and the sweep stops at the first entry still due.
 */
import type { SendTarget } from '../transport/types.ts';

export interface AnsweredRequest {
  /** The final response, byte for byte (latin1 maps each byte to one character). */
  readonly response: string;
  readonly target: SendTarget;
  /** `Call-ID|From tag|CSeq` the request holds in the merged-request table, if any. */
  readonly mergeKey: string | undefined;
  readonly expires: number;
}

/** How late an expiry may run: sweeping at most this often groups thousands of expiries into one pass. */
const SWEEP_GRANULARITY_MS = 250;

export class AnsweredRequests {
  readonly #ms: number;
  readonly #onExpired: (key: string, entry: AnsweredRequest) => void;
  readonly #byKey = new Map<string, AnsweredRequest>();
  #timer?: NodeJS.Timeout;

  /** `onExpired` runs for each entry when its time is up (not on clear). */
  constructor(ms: number, onExpired: (key: string, entry: AnsweredRequest) => void) {
    this.#ms = ms;
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): AnsweredRequest | undefined {
    return this.#byKey.get(key);
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Keep `response` for the duration; a key already held is replaced (and moves to the end). */
  add(key: string, response: Buffer, target: SendTarget, mergeKey: string | undefined): void {
    const entry: AnsweredRequest = { response: response.toString('latin1'), target, mergeKey, expires: Date.now() + this.#ms };
    this.#byKey.delete(key);
    this.#byKey.set(key, entry);
    if (!this.#timer) this.#arm(entry.expires);
  }

  /** The kept response as bytes again. */
  static bytes(entry: AnsweredRequest): Buffer {
    return Buffer.from(entry.response, 'latin1');
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#byKey.clear();
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(SWEEP_GRANULARITY_MS, at - Date.now()));
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let next: number | undefined;
    for (const [key, entry] of this.#byKey) {
      if (entry.expires > now) {
        next = entry.expires;
        break;
      }
      this.#byKey.delete(key);
      try {
        this.#onExpired(key, entry);
      } catch {
        /* one failing expiry must not stop the others */
      }
    }
    if (next !== undefined) this.#arm(next);
  }
}
