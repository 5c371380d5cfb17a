/**
 * Nonces that expire and cannot be replayed. A nonce is self-verifying
 * (time stamp + random + HMAC), so one issued before a restart is still
 * recognised; each nonce's highest nonce-count is remembered, and an answer
 * that does not raise it is a replay. The table of counts is bounded: past
 * `maxTracked`, the oldest counts are dropped and their nonces answered
 * stale (a new challenge), never accepted again.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { detach } from '../sip-engine/own-string.ts';

export type NonceVerdict = 'ok' | 'stale' | 'invalid' | 'replay';

export class NonceManager {
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #maxTracked: number;
  /** `<issued>.<mac>` of each nonce answered at least once → its highest nonce-count, oldest first. */
  readonly #lastNc = new Map<string, number>();
  /**
   * Nonces issued at or before this time may have had their count dropped
   * (the table was full): one not in the table is answered stale rather than
   * accepted, so a dropped nonce can never be replayed.
   */
  #floor = -Infinity;

  constructor(opts: { secret?: Buffer; ttlMs: number; maxTracked?: number }) {
    this.#secret = opts.secret ?? randomBytes(32);
    this.#ttlMs = opts.ttlMs;
    this.#maxTracked = opts.maxTracked ?? 200_000;
  }

  /** Nonces whose count is remembered now (monitoring and tests). */
  get tracked(): number {
    return this.#lastNc.size;
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
    // The key is a string of its own: the nonce is a piece of the request's text, which it would keep alive.
    const key = detach(`${parts[0]}.${parts[2]}`);
    const last = this.#lastNc.get(key);
    if (last === undefined && issued <= this.#floor) return 'stale';
    if (count <= (last ?? 0)) return 'replay';
    this.#lastNc.set(key, nc === undefined ? Number.MAX_SAFE_INTEGER : count);
    if (last === undefined) this.#trim(now);
    return 'ok';
  }

  /**
   * Keeps the table small: a few expired entries go from the front on each
   * new one, and when it is full the oldest quarter goes at once (raising the
   * floor). Each step costs in proportion to what it removes.
   */
  #trim(now: number): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.#lastNc.keys().next().value as string | undefined;
      if (oldest === undefined || now - issuedOf(oldest) <= this.#ttlMs) break;
      this.#lastNc.delete(oldest);
    }
    if (this.#lastNc.size <= this.#maxTracked) return;
    let n = Math.max(1, Math.floor(this.#maxTracked / 4));
    for (const key of this.#lastNc.keys()) {
      if (n-- <= 0) break;
      this.#floor = Math.max(this.#floor, issuedOf(key));
      this.#lastNc.delete(key);
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url').slice(0, 22);
  }
}

function issuedOf(key: string): number {
  return parseInt(key.slice(0, key.indexOf('.')), 36);
}
