/** Answer SIP digest challenges by hand (as a client would), for registrar tests on raw sockets. */
import { createHash, randomBytes } from 'node:crypto';

export function challengeOf(msg: string, header = 'WWW-Authenticate', algorithm = 'SHA-256'): { realm: string; nonce: string; algorithm: string; stale: boolean } {
  const lines = msg.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${header.toLowerCase()}:`));
  const line = lines.find((l) => new RegExp(`algorithm=${algorithm}\\b`, 'i').test(l)) ?? lines[0];
  if (!line) throw new Error(`no ${header} in:\n${msg}`);
  return {
    realm: /realm="([^"]*)"/.exec(line)![1]!,
    nonce: /nonce="([^"]*)"/.exec(line)![1]!,
    algorithm: /algorithm=([A-Za-z0-9-]+)/.exec(line)?.[1] ?? 'MD5',
    stale: /stale=true/i.test(line),
  };
}

export function digestAnswer(o: { username: string; password: string; realm: string; nonce: string; algorithm: string; method: string; uri: string; nc?: number; cnonce?: string }): string {
  const hash = (s: string) => createHash(o.algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? randomBytes(6).toString('hex');
  const ha1 = hash(`${o.username}:${o.realm}:${o.password}`);
  const ha2 = hash(`${o.method}:${o.uri}`);
  const response = hash(`${ha1}:${o.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${o.username}", realm="${o.realm}", nonce="${o.nonce}", uri="${o.uri}", response="${response}", algorithm=${o.algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}
