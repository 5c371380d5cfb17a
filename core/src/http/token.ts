/**
 * Bearer tokens: `base64url(json).base64url(hmac-sha256)`. The host passes
 * a random key it generated at its first start and keeps in the database
 * (host/host-secrets.ts), so tokens survive a restart; the default key,
 * random per instance, is for tests that need no persistence.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  sub: string;
  role: string;
  /** Expiry, ms since epoch. */
  exp: number;
}

export class TokenSigner {
  readonly #key: Buffer;
  readonly #ttlMs: number;

  constructor(ttlMs = 12 * 60 * 60 * 1000, key: Buffer = randomBytes(32)) {
    this.#key = key;
    this.#ttlMs = ttlMs;
  }

  sign(sub: string, role: string, now = Date.now()): string {
    const body = Buffer.from(JSON.stringify({ sub, role, exp: now + this.#ttlMs } satisfies TokenClaims)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The claims, or undefined when the token is malformed, forged or expired. */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac) return undefined;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
      if (typeof claims.exp !== 'number' || claims.exp <= now) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

/** The token of an `Authorization: Bearer x` header. */
export function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
