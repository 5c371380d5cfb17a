// A tiny authoritative DNS server on UDP loopback, answering from an
// in-memory zone, so the SIP engine's RFC 3263 resolver can be tested against
// real DNS packets without touching any resolver outside this machine.
//
// Answers follow RFC 1035 (message format, A), RFC 3596 (AAAA), RFC 2782
// (SRV) and RFC 3403 (NAPTR). Names in answers are written uncompressed;
// names in questions may be compressed. Unknown names get NXDOMAIN, known
// names without records of the asked type get an empty NOERROR (NODATA).
import dgram from 'node:dgram';
import net from 'node:net';

export type DnsRecord =
  | { type: 'A'; address: string; ttl?: number }
  | { type: 'AAAA'; address: string; ttl?: number }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string; ttl?: number }
  | {
    type: 'NAPTR'; order: number; preference: number; flags: string; service: string;
    regexp?: string; replacement: string; ttl?: number;
  };

export type DnsZone = Record<string, DnsRecord[]>;

export interface DnsQuery {
  /** The asked name, lower-case, without the trailing dot. */
  name: string;
  /** `A`, `AAAA`, `SRV`, `NAPTR`, `ANY`, or `TYPE<n>` for anything else. */
  type: string;
}

export interface DnsServer {
  port: number;
  close(): Promise<void>;
  /** Every well-formed question received, in arrival order. */
  queries: DnsQuery[];
}

const TYPE_CODES = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 } as const;
const ANY = 255;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
// Zero TTL: tests reuse names with different zones, and nothing should cache them.
const DEFAULT_TTL = 0;
const MAX_POINTER_HOPS = 32;

function typeName(code: number): string {
  if (code === ANY) return 'ANY';
  const found = Object.entries(TYPE_CODES).find(([, c]) => c === code);
  return found ? found[0] : `TYPE${code}`;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Reads a possibly compressed name at `offset`; `next` is where the name ended in the packet. */
function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let hops = 0; ; ) {
    if (pos >= buf.length) throw new Error('name runs past the packet');
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new Error('truncated pointer');
      if (++hops > MAX_POINTER_HOPS) throw new Error('compression loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new Error('reserved label type');
    if (pos + 1 + len > buf.length) throw new Error('label runs past the packet');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  for (const label of trimmed === '' ? [] : trimmed.split('.')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad label in ${JSON.stringify(name)}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new Error(`name too long: ${name}`);
  return out;
}

function characterString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  if (bytes.length > 255) throw new Error('character-string longer than 255 bytes');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

function ipv4Bytes(address: string): Buffer {
  if (!net.isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  if (!net.isIPv6(address)) throw new Error(`not an IPv6 address: ${address}`);
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = ipv4Bytes(g);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return u16(...groups);
}

function rdata(r: DnsRecord): Buffer {
  switch (r.type) {
    case 'A': return ipv4Bytes(r.address);
    case 'AAAA': return ipv6Bytes(r.address);
    case 'SRV': return Buffer.concat([u16(r.priority, r.weight, r.port), encodeName(r.target)]);
    case 'NAPTR':
      return Buffer.concat([
        u16(r.order, r.preference), characterString(r.flags), characterString(r.service),
        characterString(r.regexp ?? ''), encodeName(r.replacement),
      ]);
  }
}

function resourceRecord(owner: Buffer, r: DnsRecord): Buffer {
  const data = rdata(r);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_CODES[r.type], 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(r.ttl ?? DEFAULT_TTL, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, fixed, data]);
}

function header(id: number, queryFlags: number, rcode: number, qd: number, an: number): Buffer {
  // QR=1, the query's opcode, AA=1, the query's RD, RA=0.
  const flags = 0x8000 | (queryFlags & 0x7800) | 0x0400 | (queryFlags & 0x0100) | rcode;
  return u16(id, flags, qd, an, 0, 0);
}

/** Builds the answer to one query packet, or undefined for packets not worth answering. */
function answer(zone: Map<string, DnsRecord[]>, query: Buffer, seen: DnsQuery[]): Buffer | undefined {
  if (query.length < 12) return undefined;
  const id = query.readUInt16BE(0);
  const flags = query.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) return undefined; // a response, not a query
  if (((flags >> 11) & 0x0f) !== 0) return header(id, flags, RCODE_NOTIMP, 0, 0);
  if (query.readUInt16BE(4) !== 1) return header(id, flags, RCODE_FORMERR, 0, 0);
  let q;
  try {
    q = readName(query, 12);
  } catch {
    return header(id, flags, RCODE_FORMERR, 0, 0);
  }
  if (q.next + 4 > query.length) return header(id, flags, RCODE_FORMERR, 0, 0);
  const qtype = query.readUInt16BE(q.next);
  const qclass = query.readUInt16BE(q.next + 2);
  const name = normalize(q.name);
  seen.push({ name, type: typeName(qtype) });
  // Echo the name as asked (case included): resolvers may check it.
  const owner = encodeName(q.name);
  const question = Buffer.concat([owner, u16(qtype, qclass)]);
  const records = zone.get(name);
  if (!records) return Buffer.concat([header(id, flags, RCODE_NXDOMAIN, 1, 0), question]);
  const matching = qclass === CLASS_IN || qclass === ANY
    ? records.filter((r) => qtype === ANY || TYPE_CODES[r.type] === qtype)
    : [];
  return Buffer.concat([header(id, flags, 0, 1, matching.length), question, ...matching.map((r) => resourceRecord(owner, r))]);
}

export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  const byName = new Map<string, DnsRecord[]>();
  for (const [name, records] of Object.entries(zone)) {
    const key = normalize(name);
    byName.set(key, [...(byName.get(key) ?? []), ...records]);
    for (const r of records) rdata(r); // a bad zone fails here, not as a silent non-answer later
  }
  const queries: DnsQuery[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const reply = answer(byName, msg, queries);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // Late socket errors (e.g. ICMP-driven send failures) must not crash the test process.
  socket.on('error', () => undefined);
  let closed = false;
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => {
      if (closed) return resolve();
      closed = true;
      socket.close(() => resolve());
    }),
  };
}
