/**
 * Counts failed sign-ins per key (a client address, an account) in a
 * sliding window; `maxFailures` within `windowMs` locks the key for
 * `lockoutMs`, during which even the right password is refused, so guessing
 * cannot continue at any speed. State is in memory and bounded: past
 * `maxKeys`, the oldest keys are forgotten first (an attacker rotating
 * addresses must not grow it without limit). Usable for SIP digest too.
 */

export interface FailureLimits {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

export interface Lockout {
  key: string;
  failures: number;
  /** ms since epoch when the key unlocks. */
  until: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class FailureLimiter {
  readonly #limits: FailureLimits;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(limits: FailureLimits, options: { maxKeys?: number; now?: () => number } = {}) {
    this.#limits = limits;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** ms left on the key's lockout, 0 when it may try. */
  lockedFor(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntil - this.#now());
  }

  /** Records one failure; returns the lockout when this failure started one. */
  fail(key: string): Lockout | undefined {
    const now = this.#now();
    const entry = this.#entries.get(key) ?? { failures: [], lockedUntil: 0 };
    // Re-insert so Map order is least-recently-failed first, for eviction.
    this.#entries.delete(key);
    entry.failures = entry.failures.filter((t) => t > now - this.#limits.windowMs);
    entry.failures.push(now);
    this.#entries.set(key, entry);
    this.#evict();
    if (entry.lockedUntil > now || entry.failures.length < this.#limits.maxFailures) return undefined;
    entry.lockedUntil = now + this.#limits.lockoutMs;
    const failures = entry.failures.length;
    entry.failures = [];
    return { key, failures, until: entry.lockedUntil };
  }

  /** A success clears the key's failures (use for accounts, not for addresses). */
  clear(key: string): void {
    this.#entries.delete(key);
  }

  #evict(): void {
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) return;
      this.#entries.delete(oldest);
    }
  }
}
