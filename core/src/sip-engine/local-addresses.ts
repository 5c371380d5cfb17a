/** What the engine calls itself: listeners by transport and family, Via and Contact values, "is this URI me?". */
import net from 'node:net';
import type { BoundListener, TransportName } from './transport/types.ts';
import { parseUri, uriParam } from './message/index.ts';

export class LocalAddresses {
  readonly listeners: BoundListener[];
  readonly transports: ReadonlySet<TransportName>;
  readonly #selves = new Set<string>();

  constructor(listeners: BoundListener[]) {
    this.listeners = listeners;
    this.transports = new Set(listeners.map((l) => l.transport));
    for (const l of listeners) {
      for (const host of [l.advertise, l.address]) this.#selves.add(`${host.toLowerCase()}:${l.port}`);
      if (l.address === '0.0.0.0' || l.address === '::') {
        for (const host of ['127.0.0.1', '::1', 'localhost']) this.#selves.add(`${host}:${l.port}`);
      }
    }
  }

  /** The listener to send from for a transport and destination address. */
  pick(transport: TransportName, remoteAddress?: string): BoundListener | undefined {
    const family = remoteAddress && net.isIPv6(remoteAddress) ? 'IPv6' : 'IPv4';
    return (
      this.listeners.find((l) => l.transport === transport && l.family === family) ??
      this.listeners.find((l) => l.transport === transport)
    );
  }

  /** A listener of that transport whose address family can reach the address, if any. */
  pickExact(transport: TransportName, remoteAddress: string): BoundListener | undefined {
    const family = net.isIPv6(remoteAddress) ? 'IPv6' : 'IPv4';
    return this.listeners.find((l) => l.transport === transport && l.family === family);
  }

  hostport(l: BoundListener): string {
    return `${l.advertise.includes(':') ? `[${l.advertise}]` : l.advertise}:${l.port}`;
  }

  via(l: BoundListener, branch: string): string {
    return `SIP/2.0/${l.transport.toUpperCase()} ${this.hostport(l)};rport;branch=${branch}`;
  }

  uri(l: BoundListener, user?: string): string {
    const scheme = l.transport === 'tls' || l.transport === 'wss' ? 'sips' : 'sip';
    const tp = l.transport === 'udp' ? '' : `;transport=${l.transport}`;
    return `${scheme}:${user ? `${user}@` : ''}${this.hostport(l)}${tp}`;
  }

  /** Record-Route value for a proxied request leaving on `l`. */
  recordRoute(l: BoundListener): string {
    return `<${this.uri(l)};lr>`;
  }

  /** drachtio's hostport list, e.g. `udp/127.0.0.1:5060,tcp/127.0.0.1:5060`. */
  describe(): string {
    return this.listeners.map((l) => `${l.transport}/${this.hostport(l)}`).join(',');
  }

  isSelf(host: string, port: number | undefined, transport?: string): boolean {
    const h = host.replace(/^\[|\]$/g, '').toLowerCase();
    const p = port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060);
    return this.#selves.has(`${h}:${p}`);
  }

  /** True when a URI (possibly in <>) points at this engine. */
  isSelfUri(text: string): boolean {
    try {
      const inner = text.trim();
      const m = inner.startsWith('<') ? inner.slice(1, inner.indexOf('>')) : inner.split(/[;,]/)[0]!;
      const u = parseUri(inner.startsWith('<') ? m : inner.replace(/\s.*$/, ''));
      const tp = uriParam(u, 'transport');
      return this.isSelf(u.host, u.port, typeof tp === 'string' ? tp.toLowerCase() : u.scheme === 'sips' ? 'tls' : undefined);
    } catch {
      return false;
    }
  }
}
