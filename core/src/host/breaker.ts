/**
 * Per-plugin circuit breaker: `failures` failures inside `windowMs` trip it.
 * Once tripped it stays open for at least `windowMs` (the admin sees why in
 * the plugin's error). It does not half-open by itself: a plugin that broke
 * this badly comes back only when an admin re-enables it (PUT
 * /api/admin/sites/:site/plugins/:id with enabled: true) after the window,
 * or at a restart. The window stops an admin from flapping it straight back
 * into the same failures.
 */
export interface BreakerOptions {
  failures: number;
  windowMs: number;
}

export class PluginBreaker {
  readonly #options: BreakerOptions;
  readonly #onTrip: (reason: string) => void;
  #failures: number[] = [];
  #open = false;
  #openedAt = 0;

  constructor(options: BreakerOptions, onTrip: (reason: string) => void) {
    this.#options = options;
    this.#onTrip = onTrip;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Milliseconds until an admin may close it again; 0 when closed or the window has passed. */
  retryAfterMs(now = Date.now()): number {
    if (!this.#open) return 0;
    return Math.max(0, this.#openedAt + this.#options.windowMs - now);
  }

  /** Close it with a clean slate (admin re-enable after the window). */
  reset(): void {
    this.#open = false;
    this.#failures = [];
    this.#openedAt = 0;
  }

  /** Count one failure; returns true when this failure tripped the breaker. */
  recordFailure(reason: string, now = Date.now()): boolean {
    if (this.#open) return false;
    this.#failures = this.#failures.filter((at) => now - at < this.#options.windowMs);
    this.#failures.push(now);
    if (this.#failures.length < this.#options.failures) return false;
    this.#open = true;
    this.#openedAt = now;
    this.#onTrip(
      `breaker tripped: ${this.#failures.length} failures within ${this.#options.windowMs} ms; last: ${reason}`,
    );
    return true;
  }
}
