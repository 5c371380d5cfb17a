/** RFC 3261 §17 timer base values (ms); all other timers derive from them. */
export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { t1: 500, t2: 4000, t4: 5000 };

/** Timer B / F / H / J (unreliable) = 64*T1. */
export function timeout64(t: TimerConfig): number {
  return 64 * t.t1;
}

/** A retransmission schedule: T1, 2T1, 4T1 … capped at cap (T2 for non-INVITE/G). */
export class Backoff {
  #next: number;
  readonly #cap: number;
  constructor(start: number, cap: number) {
    this.#next = start;
    this.#cap = cap;
  }
  next(): number {
    const v = this.#next;
    this.#next = Math.min(this.#next * 2, this.#cap);
    return v;
  }
}

/**
 * Deadlines that all share one duration (Timer J at 64*T1, Timer K at T4):
 * kept in arrival order, so the head is always the next to fire, with one
 * timer for the whole queue. A timer per transaction costs an object, a
 * closure and a timer-list insertion for every request, and at a thousand
 * requests a second tens of thousands of them are alive at once.
 */
export class ExpiryQueue {
  readonly #ms: number;
  #items: Array<{ at: number; fire: () => void } | undefined> = [];
  #head = 0;
  /** Sequence number of #items[0]: entries keep their number when the array is compacted. */
  #base = 0;
  #timer?: NodeJS.Timeout;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Entries not yet fired (cancelled ones included until their time comes). */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Calls `fire` once the duration has passed; the returned function cancels it. */
  add(fire: () => void): () => void {
    const entry = { at: Date.now() + this.#ms, fire };
    const seq = this.#base + this.#items.length;
    this.#items.push(entry);
    if (!this.#timer) this.#arm(entry.at);
    return () => {
      const i = seq - this.#base;
      if (i >= this.#head && this.#items[i] === entry) this.#items[i] = undefined;
    };
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#base += this.#items.length;
    this.#items = [];
    this.#head = 0;
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#run(), Math.max(1, at - Date.now()));
    this.#timer.unref();
  }

  #run(): void {
    this.#timer = undefined;
    const now = Date.now();
    while (this.#head < this.#items.length) {
      const e = this.#items[this.#head];
      if (e && e.at > now) break;
      this.#items[this.#head++] = undefined;
      if (!e) continue;
      try {
        e.fire();
      } catch {
        /* one failing expiry must not stop the others */
      }
    }
    if (this.#head === this.#items.length) {
      this.#base += this.#head;
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
    const next = this.#items[this.#head];
    if (next && !this.#timer) this.#arm(next.at);
  }
}
