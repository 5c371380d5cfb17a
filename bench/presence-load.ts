// The presence benchmark's SIP side: many watchers and a few publishers on
// UDP sockets of this process. Watchers SUBSCRIBE (one dialog each), answer
// every NOTIFY 200 and note when each arrived and whether its PIDF said
// open or closed; publishers PUBLISH open/closed documents with entity tags.
// Requests are not retransmitted (loopback); a window bounds how many are
// outstanding so the server's socket buffer is not flooded by us.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface Watch {
  callId: string;
  presentity: string;
  /** Arrival time (performance.now) and basic status of each NOTIFY, oldest first. */
  notifies: Array<{ at: number; open: boolean | undefined; terminated: boolean }>;
  onNotify?: () => void;
}

interface Pending {
  resolve(msg: string): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const SOCKETS = 4;
let seq = 0;

export class PresenceLoad {
  readonly watches = new Map<string, Watch>();
  readonly #sockets: dgram.Socket[];
  readonly #target: { host: string; port: number };
  readonly #domain: string;
  readonly #pending = new Map<string, Pending>();
  readonly #etags = new Map<string, string>();
  /** NOTIFYs answered in total. */
  notifyCount = 0;
  /** Requests we had to send again (no final response within Timer E). */
  retransmissions = 0;
  /** The last NOTIFY as received (PRESENCE_BENCH_DEBUG set), for looking at a server's bodies. */
  lastRaw = '';

  private constructor(sockets: dgram.Socket[], target: { host: string; port: number }, domain: string) {
    this.#sockets = sockets;
    this.#target = target;
    this.#domain = domain;
    for (const s of sockets) s.on('message', (buf) => this.#receive(s, buf.toString('latin1')));
  }

  static async open(target: { host: string; port: number }, domain: string): Promise<PresenceLoad> {
    const sockets: dgram.Socket[] = [];
    for (let i = 0; i < SOCKETS; i++) {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 32 * 1024 * 1024, sendBufferSize: 8 * 1024 * 1024 });
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      sockets.push(s);
    }
    return new PresenceLoad(sockets, target, domain);
  }

  close(): void {
    for (const s of this.#sockets) s.close();
    for (const p of this.#pending.values()) clearTimeout(p.timer);
  }

  /** SUBSCRIBE `watcher` (a user of another domain) to `presentity`; resolves on the 2xx. */
  async subscribe(presentity: string, watcher: string, expires = 3600): Promise<Watch> {
    const n = ++seq;
    const callId = `w${n}-${watcher}`;
    const watch: Watch = { callId, presentity, notifies: [] };
    this.watches.set(callId, watch);
    const sock = this.#sockets[n % SOCKETS]!;
    const port = sock.address().port;
    const res = await this.#request(sock, [
      `SUBSCRIBE sip:${presentity}@${this.#domain} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKs${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:${watcher}@watchers.bench>;tag=f${n}`,
      `To: <sip:${presentity}@${this.#domain}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 SUBSCRIBE',
      `Contact: <sip:${watcher}@127.0.0.1:${port}>`,
      'Event: presence',
      'Accept: application/pidf+xml',
      `Expires: ${expires}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'), `z9hG4bKs${n}`);
    const status = Number(res.slice(8, 11));
    if (status < 200 || status >= 300) throw new Error(`SUBSCRIBE ${presentity} by ${watcher}: ${res.split('\r\n')[0]}`);
    return watch;
  }

  /** PUBLISH an open or closed document for `user` (From the user itself); resolves with the send time. */
  async publish(user: string, open: boolean, note?: string): Promise<{ sentAt: number; status: number }> {
    const n = ++seq;
    const sock = this.#sockets[0]!;
    const port = sock.address().port;
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n'
      + `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${user}@${this.#domain}">`
      + `<tuple id="t1"><status><basic>${open ? 'open' : 'closed'}</basic></status>${note ? `<note>${note}</note>` : ''}</tuple></presence>`;
    const etag = this.#etags.get(user);
    const text = [
      `PUBLISH sip:${user}@${this.#domain} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKp${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${this.#domain}>;tag=p${n}`,
      `To: <sip:${user}@${this.#domain}>`,
      `Call-ID: pub${n}`,
      'CSeq: 1 PUBLISH',
      'Event: presence',
      'Expires: 3600',
      ...(etag ? [`SIP-If-Match: ${etag}`] : []),
      'Content-Type: application/pidf+xml',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    const sentAt = performance.now();
    const res = await this.#request(sock, text, `z9hG4bKp${n}`);
    const status = Number(res.slice(8, 11));
    const tag = /^SIP-ETag:\s*(\S+)/im.exec(res)?.[1];
    if (tag) this.#etags.set(user, tag);
    else if (status === 412) this.#etags.delete(user);
    return { sentAt, status };
  }

  /** Send and retransmit like a UAC on UDP (RFC 3261 Timer E: 500 ms doubling to 4 s) until a final response; give up after `ms`. */
  #request(sock: dgram.Socket, text: string, branch: string, ms = 32_000): Promise<string> {
    return new Promise((resolve, reject) => {
      let interval = 500;
      const started = performance.now();
      const resend = () => {
        if (performance.now() - started > ms) {
          this.#pending.delete(branch);
          reject(new Error(`no final response within ${ms} ms to ${text.split('\r\n')[0]}`));
          return;
        }
        sock.send(text, this.#target.port, this.#target.host);
        this.retransmissions += interval > 500 ? 1 : 0;
        const p = this.#pending.get(branch);
        if (p) p.timer = setTimeout(resend, interval);
        interval = Math.min(interval * 2, 4000);
      };
      this.#pending.set(branch, { resolve, reject, timer: setTimeout(() => undefined, 0) });
      resend();
    });
  }

  #receive(sock: dgram.Socket, m: string): void {
    if (m.startsWith('SIP/2.0 ')) {
      const status = Number(m.slice(8, 11));
      if (status < 200) return;
      const branch = /branch=([^;\s,]+)/i.exec(m)?.[1];
      const p = branch ? this.#pending.get(branch) : undefined;
      if (p && branch) {
        this.#pending.delete(branch);
        clearTimeout(p.timer);
        p.resolve(m);
      }
      return;
    }
    if (!m.startsWith('NOTIFY ')) return;
    if (process.env.PRESENCE_BENCH_DEBUG) this.lastRaw = m;
    const at = performance.now();
    const head = m.slice(0, m.indexOf('\r\n\r\n'));
    const lines = head.split('\r\n');
    const keep: string[] = [];
    let callId = '';
    let state = '';
    for (const l of lines) {
      const c = l.indexOf(':');
      if (c < 0) continue;
      const name = l.slice(0, c).trim().toLowerCase();
      if (name === 'via' || name === 'v' || name === 'from' || name === 'f' || name === 'to' || name === 't' || name === 'cseq') keep.push(l);
      else if (name === 'call-id' || name === 'i') {
        keep.push(l);
        callId = l.slice(c + 1).trim();
      } else if (name === 'subscription-state') state = l.slice(c + 1).trim();
    }
    sock.send(`SIP/2.0 200 OK\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, this.#target.port, this.#target.host);
    this.notifyCount++;
    const watch = this.watches.get(callId);
    if (!watch) return;
    const basic = /<basic>\s*(open|closed)\s*<\/basic>/.exec(m)?.[1];
    watch.notifies.push({ at, open: basic === undefined ? undefined : basic === 'open', terminated: state.startsWith('terminated') });
    watch.onNotify?.();
  }
}

/** Run `fn` over `items` with at most `window` in flight; `progress` after each completes. */
export async function windowed<T>(items: readonly T[], window: number, fn: (item: T, i: number) => Promise<unknown>, progress?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
      done++;
      progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
}
