/**
 * Location routing: a request for a local user forks in parallel to every
 * registered contact (RFC 3261 §16; the engine's proxy cancels the rest when
 * one answers). Stream and NATed bindings are reached over the address the
 * REGISTER came from, so TCP/TLS/WebSocket clients get requests on their own
 * connection (the RFC 5626 flow).
 */
import type { SipEndpoint } from '@switchboard/sdk';
import type { Binding } from './binding-store.ts';

/** One registration as plugins see it (the SDK's SipEndpoint). */
export type Endpoint = SipEndpoint;

const STREAM = new Set(['tcp', 'tls', 'ws', 'wss']);

export function endpointOf(b: Binding, now = Date.now()): Endpoint {
  return {
    contact: b.contact,
    userAgent: b.userAgent,
    transport: b.transport,
    source: `${b.sourceAddress}:${b.sourcePort}`,
    expiresIn: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    q: b.q,
    ...(b.instance ? { instance: b.instance } : {}),
  };
}

/** Where to send a request for this binding. */
export function destinationOf(b: Binding): string {
  const m = /^(sips?):(?:([^@;>]+)@)?([^;>?]+)(.*)$/i.exec(b.contact);
  if (!m) return b.contact;
  const [, scheme, user, hostport, rest] = m;
  const contactHost = hostport!.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const contactPort = Number(/:(\d+)$/.exec(hostport!)?.[1] ?? (scheme === 'sips' ? 5061 : 5060));
  const natted = contactHost !== b.sourceAddress || contactPort !== b.sourcePort;
  if (!STREAM.has(b.transport) && !natted) return b.contact;
  // Reach the client where it really is: its source address, port and transport.
  const params = (rest ?? '').replace(/;transport=[^;>?]*/i, '');
  const host = b.sourceAddress.includes(':') ? `[${b.sourceAddress}]` : b.sourceAddress;
  const transport = b.transport === 'udp' ? '' : `;transport=${b.transport}`;
  return `${scheme}:${user ? `${user}@` : ''}${host}:${b.sourcePort}${params}${transport}`;
}

export function isStream(transport: string): boolean {
  return STREAM.has(transport);
}
