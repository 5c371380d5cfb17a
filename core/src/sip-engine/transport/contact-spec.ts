import { isIP } from 'node:net';
import { TransportError, TransportErrorCode } from './errors.ts';
import type { ListenSpec, TransportName } from './types.ts';

/**
 * Default ports when a contact names none. udp/tcp 5060 and tls 5061 are the
 * RFC 3261 ones. WebSocket has no SIP-registered port (RFC 7118 rides on
 * 80/443, which need privileges), so we follow the widespread FreeSWITCH
 * convention: ws 5066, wss 7443.
 */
export const DEFAULT_PORTS: Readonly<Record<TransportName, number>> = {
  udp: 5060,
  tcp: 5060,
  tls: 5061,
  ws: 5066,
  wss: 7443,
};

const TRANSPORTS = new Set<TransportName>(['udp', 'tcp', 'tls', 'ws', 'wss']);
const SECURE = new Set<TransportName>(['tls', 'wss']);
const EXAMPLE =
  'expected e.g. "sip:127.0.0.1:5060;transport=udp,tcp", "sips:0.0.0.0:5061;transport=tls", ' +
  '"sip:[::1]:5060;transport=udp" or "sip:0.0.0.0:5066;transport=ws;external=203.0.113.7"';

function bad(contact: string, reason: string): TransportError {
  return new TransportError(TransportErrorCode.BAD_CONTACT, `bad contact "${contact}": ${reason}; ${EXAMPLE}`);
}

/**
 * Parses a drachtio-server style contact into one ListenSpec per transport.
 * Without `;transport=`, `sip:` listens on udp and tcp (as drachtio does) and
 * `sips:` on tls. Hosts must be IP literals because a listener binds them.
 * `;external=` (alias `;external-ip=`) sets the address to advertise.
 */
export function parseContact(contact: string): ListenSpec[] {
  if (typeof contact !== 'string') throw bad(String(contact), 'a contact must be a string');
  const m = /^(sips?):(\[[^\]]*\]|[^;:[\]]+)(?::([^;]*))?((?:;[^;]*)*)$/i.exec(contact.trim());
  if (!m) throw bad(contact, 'it is not of the form scheme:host[:port][;params]');
  const scheme = m[1]!.toLowerCase();
  const rawHost = m[2]!;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const family = isIP(host);
  if (family === 0) throw bad(contact, `host "${rawHost}" is not an IPv4 or bracketed IPv6 address`);
  if ((family === 6) !== rawHost.startsWith('[')) throw bad(contact, 'IPv6 hosts, and only they, go in brackets');

  let port: number | undefined;
  if (m[3] !== undefined) {
    if (!/^\d{1,5}$/.test(m[3]) || Number(m[3]) > 65535) throw bad(contact, `port "${m[3]}" is not 0-65535`);
    port = Number(m[3]);
  }

  let transports: TransportName[] | undefined;
  let external: string | undefined;
  for (const param of (m[4] ?? '').split(';').slice(1)) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : param.slice(eq + 1).trim();
    if (name === 'transport') {
      transports = parseTransports(contact, value);
    } else if (name === 'external' || name === 'external-ip') {
      if (value === '') throw bad(contact, `;${name}= needs an address`);
      external = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
    } else {
      throw bad(contact, `unknown parameter ";${param}" (known: transport, external)`);
    }
  }

  transports ??= scheme === 'sips' ? ['tls'] : ['udp', 'tcp'];
  if (scheme === 'sips') {
    const insecure = transports.filter((t) => !SECURE.has(t));
    if (insecure.length) throw bad(contact, `sips: cannot listen on ${insecure.join(',')} (only tls or wss)`);
  }

  return transports.map((transport) => {
    const spec: ListenSpec = { transport, host: host.toLowerCase(), port: port ?? DEFAULT_PORTS[transport] };
    if (external !== undefined) spec.external = external;
    return spec;
  });
}

function parseTransports(contact: string, value: string): TransportName[] {
  const out: TransportName[] = [];
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase();
    if (!TRANSPORTS.has(t as TransportName)) {
      throw bad(contact, `transport "${raw.trim()}" is not one of udp, tcp, tls, ws, wss`);
    }
    if (!out.includes(t as TransportName)) out.push(t as TransportName);
  }
  return out;
}
