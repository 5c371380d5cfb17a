/** A hand-driven SIP peer on a real socket (UDP, TLS or WebSocket) for edge cases sipp cannot express. */
import dgram from 'node:dgram';
import tls from 'node:tls';
import WebSocket from 'ws';

export interface RawPeer {
  port: number;
  send(text: string): void;
  /** Next received message matching the predicate (default: any). */
  next(match?: (m: string) => boolean, ms?: number): Promise<string>;
  received: string[];
  close(): Promise<void>;
}

function queue() {
  const received: string[] = [];
  const waiters: Array<{ match: (m: string) => boolean; resolve: (m: string) => void }> = [];
  let cursor = 0;
  return {
    received,
    push(m: string) {
      received.push(m);
      const i = waiters.findIndex((w) => w.match(m));
      if (i >= 0) {
        const [w] = waiters.splice(i, 1);
        cursor = received.length;
        w!.resolve(m);
      }
    },
    next(match: (m: string) => boolean = () => true, ms = 5000): Promise<string> {
      const old = received.slice(cursor).find(match);
      if (old !== undefined) {
        cursor = received.indexOf(old) + 1;
        return Promise.resolve(old);
      }
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (m: string) => { clearTimeout(timer); resolve(m); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching SIP message within ${ms} ms; got:\n${received.slice(-3).join('\n---\n')}`));
        }, ms);
        waiters.push(w);
      });
    },
  };
}

export async function udpPeer(target: { host: string; port: number }, family: 'udp4' | 'udp6' = 'udp4'): Promise<RawPeer> {
  const sock = dgram.createSocket(family);
  const q = queue();
  sock.on('message', (m) => q.push(m.toString('utf8')));
  await new Promise<void>((r) => sock.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  return {
    port: sock.address().port,
    send: (text) => sock.send(Buffer.from(text), target.port, target.host),
    next: q.next,
    received: q.received,
    close: () => new Promise((r) => sock.close(() => r())),
  };
}

export async function tlsPeer(target: { host: string; port: number }): Promise<RawPeer> {
  const sock = tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => { sock.once('secureConnect', () => resolve()); sock.once('error', reject); });
  const q = queue();
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString('utf8');
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(buf.slice(0, end + 2))?.[1] ?? '0');
      if (buf.length < end + 4 + len) return;
      q.push(buf.slice(0, end + 4 + len));
      buf = buf.slice(end + 4 + len);
    }
  });
  return { port: sock.localPort ?? 0, send: (t) => sock.write(t), next: q.next, received: q.received, close: async () => void sock.destroy() };
}

export async function wsPeer(url: string): Promise<RawPeer & { protocol: string }> {
  const ws = new WebSocket(url, 'sip', { rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const q = queue();
  ws.on('message', (d) => q.push(d.toString()));
  return {
    port: 0,
    protocol: ws.protocol,
    send: (t) => ws.send(t),
    next: q.next,
    received: q.received,
    close: async () => ws.close(),
  };
}

let n = 0;
/** A request with the headers every peer needs; `extra` lines are appended verbatim. */
export function request(method: string, uri: string, via: string, opts: { callId?: string; branch?: string; cseq?: number; fromTag?: string; toTag?: string; body?: string; extra?: string[] } = {}): string {
  const body = opts.body ?? '';
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${via};branch=${opts.branch ?? `z9hG4bKraw${++n}x${Date.now()}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@example.test>;tag=${opts.fromTag ?? `f${n}`}`,
    `To: <sip:bob@example.test>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? `raw-${n}-${Date.now()}`}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    `Contact: <sip:alice@${via.split(' ')[1]}>`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export function statusOf(m: string): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? 0);
}
