/**
 * RFC 3263 target resolution: transport from the URI (or NAPTR), then SRV,
 * then A/AAAA, through the DNS servers node's resolver is configured with.
 * IP literals short-circuit.
 */
import dns from 'node:dns';
import net from 'node:net';
import { parseUri, uriParam } from './message/index.ts';
import { SipEngineError } from './errors.ts';
import type { TransportName } from './transport/types.ts';

export interface ResolvedTarget {
  transport: TransportName;
  address: string;
  port: number;
}

const NAPTR_SERVICES: Record<string, TransportName> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls', 'SIP+D2W': 'ws', 'SIPS+D2W': 'wss' };
/** DNS answers that settle the question: the name or its address records do not exist. */
const DEFINITE_NO = new Set<string>([dns.NOTFOUND, dns.NODATA]);

function defaultPort(t: TransportName): number {
  return t === 'tls' || t === 'wss' ? 5061 : 5060;
}

export async function resolveTarget(uriText: string, available: ReadonlySet<TransportName>): Promise<ResolvedTarget[]> {
  let uri;
  try {
    uri = parseUri(uriText.trim().replace(/^<|>$/g, ''));
  } catch (err) {
    throw new SipEngineError('SIP_ERR_RESOLVE', `'${uriText}': ${(err as Error).message}`);
  }
  if (uri.scheme === 'tel') throw new SipEngineError('SIP_ERR_RESOLVE', `'${uriText}': a tel URI names no host`);
  const secure = uri.scheme === 'sips';
  const tp = uriParam(uri, 'transport');
  const maddr = uriParam(uri, 'maddr');
  // maddr may be an IPv6 reference in brackets; the URI parser already strips them from the host.
  const host = typeof maddr === 'string' && maddr ? maddr.replace(/^\[(.*)\]$/, '$1') : uri.host;
  const transport: TransportName | undefined = tp ? (tp.toLowerCase() as TransportName) : secure ? 'tls' : undefined;
  if (transport && !available.has(transport)) {
    throw new SipEngineError('SIP_ERR_NO_LISTENER', `transport ${transport} for ${uriText}`);
  }
  if (net.isIP(host)) {
    const t = transport ?? (available.has('udp') ? 'udp' : firstOf(available));
    return [{ transport: t, address: host, port: uri.port ?? defaultPort(t) }];
  }
  if (uri.port !== undefined) {
    const t = transport ?? (available.has('udp') ? 'udp' : firstOf(available));
    return (await addressesOf(host)).map((address) => ({ transport: t, address, port: uri.port! }));
  }
  // RFC 3263 4.1: NAPTR picks the transport unless the URI did; a SIPS URI still
  // consults NAPTR, but may only take the secure services.
  if (!tp) {
    const viaNaptr = await naptr(host, available, secure);
    if (viaNaptr.length) return viaNaptr;
  }
  const order: TransportName[] = transport ? [transport] : (['udp', 'tcp', 'tls'] as TransportName[]).filter((t) => available.has(t));
  for (const t of order) {
    const prefix = srvPrefix(t);
    if (!prefix) continue;
    const srv = await srvTargets(`${prefix}.${host}`, t);
    if (srv.length) return srv;
  }
  const t = transport ?? order[0] ?? firstOf(available);
  return (await addressesOf(host)).map((address) => ({ transport: t, address, port: defaultPort(t) }));
}

/** SRV owner-name prefix for a transport; WebSocket has none (RFC 7118 defines no SRV use). */
function srvPrefix(t: TransportName): string | undefined {
  if (t === 'udp') return '_sip._udp';
  if (t === 'tcp') return '_sip._tcp';
  if (t === 'tls') return '_sips._tcp';
  return undefined;
}

function firstOf(s: ReadonlySet<TransportName>): TransportName {
  const v = s.values().next().value;
  if (!v) throw new SipEngineError('SIP_ERR_NO_LISTENER', 'no transports configured');
  return v;
}

/**
 * A and AAAA records from DNS (IPv4 first: the listeners are more often
 * IPv4-only). getaddrinfo is used for single-label names such as `localhost`,
 * which live in /etc/hosts or a search domain rather than in DNS, and as the
 * fallback when DNS gave no usable answer at all (unreachable, refused,
 * SERVFAIL); a definite "no such name" from DNS is final.
 */
async function addressesOf(host: string): Promise<string[]> {
  const name = host.replace(/\.$/, '');
  if (!name.includes('.')) return systemLookup(host);
  const [v4, v6] = await Promise.allSettled([dns.promises.resolve4(name), dns.promises.resolve6(name)]);
  const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (found.length) return found;
  const settled = [v4, v6].every((r) => r.status === 'fulfilled' || DEFINITE_NO.has((r.reason as NodeJS.ErrnoException).code ?? ''));
  if (settled) throw new SipEngineError('SIP_ERR_RESOLVE', `no address for ${host}`);
  return systemLookup(host);
}

async function systemLookup(host: string): Promise<string[]> {
  try {
    const r = await dns.promises.lookup(host, { all: true });
    if (r.length) return r.map((a) => a.address);
  } catch {
    /* fall through to the error below */
  }
  throw new SipEngineError('SIP_ERR_RESOLVE', `no address for ${host}`);
}

/**
 * RFC 2782 ordering: ascending priority; within a priority, a weighted random
 * pick, so that peers spread their load the way the domain asked. Weight-0
 * records come only after every weighted one of their priority.
 */
function orderSrv(records: dns.SrvRecord[]): dns.SrvRecord[] {
  const out: dns.SrvRecord[] = [];
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  for (const p of priorities) {
    const pool = records.filter((r) => r.priority === p);
    while (pool.length) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      let i = 0;
      if (total > 0) {
        let pick = Math.random() * total;
        i = pool.findIndex((r) => r.weight > 0 && (pick -= r.weight) < 0);
        if (i < 0) i = pool.findIndex((r) => r.weight > 0);
      }
      out.push(...pool.splice(i, 1));
    }
  }
  return out;
}

async function srvTargets(name: string, transport: TransportName): Promise<ResolvedTarget[]> {
  let recs: dns.SrvRecord[];
  try {
    recs = await dns.promises.resolveSrv(name);
  } catch {
    return [];
  }
  const out: ResolvedTarget[] = [];
  for (const r of orderSrv(recs)) {
    // A target of "." says the service is decidedly not offered there (RFC 2782).
    if (r.name === '' || r.name === '.') continue;
    for (const address of await addressesOf(r.name).catch(() => [])) out.push({ transport, address, port: r.port });
  }
  return out;
}

async function naptr(host: string, available: ReadonlySet<TransportName>, secureOnly: boolean): Promise<ResolvedTarget[]> {
  let recs: dns.NaptrRecord[];
  try {
    recs = await dns.promises.resolveNaptr(host);
  } catch {
    return []; // no NAPTR: continue with SRV
  }
  recs.sort((a, b) => a.order - b.order || a.preference - b.preference);
  for (const r of recs) {
    const service = r.service.toUpperCase();
    const t = NAPTR_SERVICES[service];
    if (!t || !available.has(t) || (secureOnly && !service.startsWith('SIPS+'))) continue;
    if (r.flags.toLowerCase() !== 's' || !r.replacement || r.replacement === '.') continue;
    const srv = await srvTargets(r.replacement, t);
    if (srv.length) return srv;
  }
  return [];
}
