/**
 * Nonces that expire and cannot be replayed. A nonce is self-verifying
 * (time stamp + random + HMAC), so one issued before a restart is still
 * recognised; each nonce's highest nonce-count is remembered, and an answer
 * that does not raise it is a replay.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type NonceVerdict = 'ok' | 'stale' | 'invalid' | 'replay';

export class NonceManager {
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #maxTracked: number;
  readonly #lastNc = new Map<string, number>();

  constructor(opts: { secret?: Buffer; ttlMs: number; maxTracked?: number }) {
    this.#secret = opts.secret ?? randomBytes(32);
    this.#ttlMs = opts.ttlMs;
    this.#maxTracked = opts.maxTracked ?? 200_000;
  }

  issue(now = Date.now()): string {
    const body = `${now.toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** Checks a nonce and its count (hex `nc`, or undefined for qop-less answers, which may be used once). */
  check(nonce: string, nc: string | undefined, now = Date.now()): NonceVerdict {
    const parts = nonce.split('.');
    if (parts.length !== 3) return 'invalid';
    const body = `${parts[0]}.${parts[1]}`;
    const mac = Buffer.from(parts[2]!);
    const want = Buffer.from(this.#mac(body));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return 'invalid';
    const issued = parseInt(parts[0]!, 36);
    if (!Number.isFinite(issued) || now - issued > this.#ttlMs) return 'stale';
    const count = nc === undefined ? 1 : parseInt(nc, 16);
    if (!Number.isFinite(count) || count < 1) return 'invalid';
    const last = this.#lastNc.get(nonce) ?? 0;
    if (count <= last) return 'replay';
    if (this.#lastNc.size >= this.#maxTracked) this.#evict(now);
    this.#lastNc.set(nonce, nc === undefined ? Number.MAX_SAFE_INTEGER : count);
    return 'ok';
  }

  #evict(now: number): void {
    for (const key of this.#lastNc.keys()) {
      const issued = parseInt(key.split('.')[0]!, 36);
      if (now - issued > this.#ttlMs) this.#lastNc.delete(key);
    }
    // Still full: drop the oldest half; those nonces become unusable (stale-like), never replayable.
    if (this.#lastNc.size >= this.#maxTracked) {
      let n = this.#lastNc.size / 2;
      for (const key of this.#lastNc.keys()) {
        if (n-- <= 0) break;
        this.#lastNc.set(key, Number.MAX_SAFE_INTEGER);
      }
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url').slice(0, 22);
  }
}
