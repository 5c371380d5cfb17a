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
 *
 * The store is bounded (`max`): past it the oldest entry goes early. A
 * request retransmitted after that is taken as new (a REGISTER is
 * challenged again, say), which is better than what a full store would
 * otherwise force: refusing new requests. Retransmissions come at T1, 2*T1,
 * 4*T1 …, so the oldest answers are the ones least likely to be asked again.
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
  readonly #max: number;
  readonly #onExpired: (key: string, entry: AnsweredRequest) => void;
  readonly #byKey = new Map<string, AnsweredRequest>();
  #timer?: NodeJS.Timeout;
  /** Entries that went before their time because the store was full. */
  droppedEarly = 0;

  /** `onExpired` runs for each entry when its time is up or it goes early (not on clear). */
  constructor(ms: number, onExpired: (key: string, entry: AnsweredRequest) => void, max = Infinity) {
    this.#ms = ms;
    this.#max = max;
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
    if (this.#byKey.size > this.#max) this.#dropOldest();
    if (!this.#timer) this.#arm(entry.expires);
  }

  #dropOldest(): void {
    const first = this.#byKey.entries().next().value as [string, AnsweredRequest] | undefined;
    if (!first) return;
    this.#byKey.delete(first[0]);
    this.droppedEarly++;
    this.#expired(first[0], first[1]);
  }

  #expired(key: string, entry: AnsweredRequest): void {
    try {
      this.#onExpired(key, entry);
    } catch {
      /* one failing expiry must not stop the others */
    }
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
      this.#expired(key, entry);
    }
    if (next !== undefined) this.#arm(next);
  }
}
