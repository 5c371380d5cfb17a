/**
 * SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): challenges
 * for SHA-256 and MD5 with qop=auth, and verification of the answer against
 * stored HA1 values (passwords are never kept).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredentials {
  ha1Md5: string;
  ha1Sha256: string;
}

export interface DigestAnswer {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

const HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function h(algorithm: DigestAlgorithm, text: string): string {
  return createHash(HASH[algorithm]).update(text, 'utf8').digest('hex');
}

/** HA1 = H(username:realm:password), computed once when a password is set. */
export function ha1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return h(algorithm, `${username}:${realm}:${password}`);
}

/** `WWW-Authenticate`/`Proxy-Authenticate` values, SHA-256 first as RFC 8760 asks. */
export function challenges(realm: string, nonce: string, opts: { stale?: boolean; algorithms?: DigestAlgorithm[] } = {}): string[] {
  const algs = opts.algorithms ?? ['SHA-256', 'MD5'];
  return algs.map((a) => `Digest realm="${realm}", nonce="${nonce}", algorithm=${a}, qop="auth"${opts.stale ? ', stale=true' : ''}`);
}

/** Parse `Digest k=v, k="v"` into an answer; undefined when it is not a usable digest answer. */
export function parseAuthorization(value: string | undefined): DigestAnswer | undefined {
  if (!value) return undefined;
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[1]!)) !== null) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  const alg = (params.algorithm ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') return undefined;
  const { username, realm, nonce, uri, response } = params;
  if (!username || realm === undefined || !nonce || !uri || !response) return undefined;
  return {
    username, realm, nonce, uri, response,
    algorithm: alg,
    ...(params.qop ? { qop: params.qop } : {}),
    ...(params.nc ? { nc: params.nc } : {}),
    ...(params.cnonce ? { cnonce: params.cnonce } : {}),
    ...(params.opaque ? { opaque: params.opaque } : {}),
  };
}

/** True when the answer proves knowledge of the password for `method`. */
export function verifyAnswer(a: DigestAnswer, method: string, creds: DigestCredentials): boolean {
  const key = a.algorithm === 'MD5' ? creds.ha1Md5 : creds.ha1Sha256;
  if (!key) return false;
  const ha2 = h(a.algorithm, `${method}:${a.uri}`);
  let expected: string;
  if (a.qop) {
    if (a.qop.toLowerCase() !== 'auth' || !a.nc || !a.cnonce) return false;
    expected = h(a.algorithm, `${key}:${a.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`);
  } else {
    expected = h(a.algorithm, `${key}:${a.nonce}:${ha2}`);
  }
  const x = Buffer.from(expected);
  const y = Buffer.from(a.response.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
