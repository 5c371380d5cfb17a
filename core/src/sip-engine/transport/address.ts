import { isIP } from 'node:net';

/**
 * Dual-stack servers report IPv4 peers as `::ffff:a.b.c.d`; SIP (Via received,
 * flow matching) needs the plain IPv4 form, so every address is normalised here.
 */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  a = a.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  return a;
}

export function familyOf(address: string): 'IPv4' | 'IPv6' {
  return isIP(normalizeAddress(address)) === 6 ? 'IPv6' : 'IPv4';
}

/** `host:port` with IPv6 hosts bracketed, as used in flow ids and URIs. */
export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** What to put in Via/Contact for a listener when no external address is configured. */
export function advertiseFor(address: string, external: string | undefined): string {
  if (external) return external;
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}
