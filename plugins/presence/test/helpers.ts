/** Test helpers: a presence host with users, signed-in HTTP clients, and a raw SIP UA on UDP. */
import { fileURLToPath } from 'node:url';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import dgram from 'node:dgram';
import { statusOf } from '../../../test/helpers/raw-sip.ts';

export const pluginDir = fileURLToPath(new URL('..', import.meta.url));
export const SITE = 'example.test';

export async function presenceHost(users: string[], config: Record<string, unknown> = {}, storage?: string, adminPassword?: string, hostConfig?: Record<string, unknown>): Promise<TestHost> {
  const host = await createTestHost({
    plugins: [pluginDir],
    sites: [SITE],
    ...(storage ? { storage } : {}),
    ...(adminPassword ? { adminPassword } : {}),
    ...(hostConfig ? { config: hostConfig } : {}),
  });
  if (Object.keys(config).length > 0) {
    const r = await host.adminFetch(`/api/admin/sites/${SITE}/plugins/presence`, { method: 'PUT', body: JSON.stringify({ enabled: true, config }) });
    if (r.status !== 200) throw new Error(`presence config: ${r.status} ${await r.text()}`);
  }
  for (const username of users) {
    const r = await host.adminFetch(`/api/admin/sites/${SITE}/users`, { method: 'POST', body: JSON.stringify({ username, password: `pw-${username}-secret`, displayName: username.toUpperCase() }) });
    if (r.status !== 201 && r.status !== 200 && r.status !== 409) throw new Error(`user ${username}: ${r.status} ${await r.text()}`);
  }
  return host;
}

/** fetch as a signed-in user of SITE, relative to the plugin's site prefix. */
export async function userClient(host: TestHost, username: string) {
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, site: SITE, password: `pw-${username}-secret` }),
  });
  if (!login.ok) throw new Error(`login ${username}: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${host.url}/api/plugins/presence/sites/${SITE}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, json: (text ? JSON.parse(text) : undefined) as any };
  };
  return { token, call };
}

let seq = 0;

/** A SIP user agent on its own UDP socket: answers NOTIFYs (200 unless told otherwise) and keeps them. */
export class Ua {
  readonly user: string;
  readonly hostPort: number;
  readonly notifies: string[] = [];
  /** Status for NOTIFYs from now on. */
  notifyStatus = 200;
  readonly #sock: dgram.Socket;
  readonly #waiters = new Map<string, (m: string) => void>();

  private constructor(sock: dgram.Socket, user: string, hostPort: number) {
    this.#sock = sock;
    this.user = user;
    this.hostPort = hostPort;
    sock.on('message', (buf) => this.#receive(buf.toString('utf8')));
  }

  static async open(user: string, hostPort: number): Promise<Ua> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new Ua(sock, user, hostPort);
  }

  get port(): number {
    return this.#sock.address().port;
  }

  #receive(m: string): void {
    if (m.startsWith('SIP/2.0 ')) {
      if (statusOf(m) < 200) return;
      const branch = /branch=([^;\s,]+)/i.exec(header(m, '(?:via|v)') ?? '')?.[1];
      const waiter = branch ? this.#waiters.get(branch) : undefined;
      if (waiter && branch) {
        this.#waiters.delete(branch);
        waiter(m);
      }
      return;
    }
    if (m.startsWith('NOTIFY ')) {
      this.notifies.push(m);
      this.#sock.send(Buffer.from(responseTo(m, this.notifyStatus)), this.hostPort, '127.0.0.1');
    }
  }

  /** A NOTIFY matching `match` at index `from` or later, waiting up to `ms`. */
  async nextNotify(match: (m: string) => boolean = () => true, ms = 15_000, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    for (let i = from; ; ) {
      for (; i < this.notifies.length; i++) if (match(this.notifies[i]!)) return this.notifies[i]!;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching NOTIFY within ${ms} ms; got ${this.notifies.length}:\n${this.notifies.slice(-2).join('\n---\n')}`);
  }

  /** Send a request and wait (up to 15 s) for its final response. */
  send(method: string, target: string, opts: { headers?: string[]; body?: string; callId?: string; cseq?: number; fromTag?: string; toTag?: string; ruri?: string; from?: string } = {}): Promise<string> {
    const n = ++seq;
    const branch = `z9hG4bKpres${n}x${Date.now()}`;
    const body = opts.body ?? '';
    const from = opts.from ?? this.user;
    const text = [
      `${method} ${opts.ruri ?? `sip:${target}@example.test`} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${from}@example.test>;tag=${opts.fromTag ?? `ft${n}`}`,
      `To: <sip:${target}@example.test>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${opts.callId ?? `pres-${n}-${Date.now()}`}`,
      `CSeq: ${opts.cseq ?? 1} ${method}`,
      `Contact: <sip:${this.user}@127.0.0.1:${this.port}>`,
      ...(opts.headers ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(branch);
        reject(new Error(`no final response to ${method} within 15 s`));
      }, 15_000);
      this.#waiters.set(branch, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.#sock.send(Buffer.from(text), this.hostPort, '127.0.0.1');
    });
  }

  close(): Promise<void> {
    return new Promise((r) => this.#sock.close(() => r()));
  }
}

export function header(message: string, name: string): string | undefined {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im');
  return re.exec(message)?.[1]?.trim();
}

export function bodyOf(message: string): string {
  const i = message.indexOf('\r\n\r\n');
  return i < 0 ? '' : message.slice(i + 4);
}

export function tagOf(nameAddr: string | undefined): string | undefined {
  return /;\s*tag=([^;\s>]+)/i.exec(nameAddr ?? '')?.[1];
}

function responseTo(request: string, status: number): string {
  const lines = request.split('\r\n');
  const keep = lines.filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq)\s*:/i.test(l));
  return [`SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Whatever'}`, ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

export { statusOf };

/** A PIDF document for `user` with RPID activities and a note. */
export function pidf(user: string, opts: { basic?: 'open' | 'closed'; activities?: string; note?: string; other?: string } = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:${user}@example.test">
<tuple id="t1"><status><basic>${opts.basic ?? 'open'}</basic></status>${opts.note ? `<note>${opts.note}</note>` : ''}</tuple>
<dm:person id="p1">${opts.activities ? `<rpid:activities>${opts.activities}</rpid:activities>` : ''}</dm:person>
</presence>`;
}

/** The sb:state of a NOTIFY or PIDF body. */
export function stateIn(message: string): string | undefined {
  return /<sb:state>([^<]+)<\/sb:state>/.exec(message)?.[1];
}

/** A browser session on the host's live WebSocket (`/api/live?token=`), signed in as `username` of SITE. */
export class LiveSession {
  readonly events: Array<{ type: string; data: any }> = [];
  readonly #ws: import('ws').WebSocket;
  readonly #replies = new Map<number, (m: { ok: boolean; data?: any; error?: { code: string; message: string } }) => void>();
  #id = 0;

  private constructor(ws: import('ws').WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { type: string; id?: number; ok?: boolean; data?: any; error?: any };
      if (m.type === 'reply' && typeof m.id === 'number') {
        this.#replies.get(m.id)?.({ ok: Boolean(m.ok), data: m.data, error: m.error });
        this.#replies.delete(m.id);
        return;
      }
      this.events.push({ type: m.type, data: m.type === 'error' ? m : m.data });
    });
  }

  static async open(host: TestHost, username: string): Promise<LiveSession> {
    const { WebSocket } = await import('ws');
    const { token } = await userClient(host, username);
    const ws = new WebSocket(`${host.url.replace(/^http/, 'ws')}/api/live?token=${encodeURIComponent(token)}`);
    const session = new LiveSession(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await session.next('hello');
    return session;
  }

  /** The first event of `type` matching `match` at index `from` or later. */
  async next(type: string, match: (data: any) => boolean = () => true, from = 0, ms = 10_000): Promise<any> {
    const deadline = Date.now() + ms;
    for (let i = from; ; ) {
      for (; i < this.events.length; i++) if (this.events[i]!.type === type && match(this.events[i]!.data)) return this.events[i]!.data;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${type} event within ${ms} ms; got ${JSON.stringify(this.events.slice(-4))}`);
  }

  /** Send a client message and wait for its reply. */
  request(type: string, data?: unknown): Promise<{ ok: boolean; data?: any; error?: { code: string; message: string } }> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${type}`)), 10_000);
      this.#replies.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.#ws.send(JSON.stringify({ type, id, ...(data !== undefined ? { data } : {}) }));
    });
  }

  /** Send a raw text frame. */
  raw(text: string): void {
    this.#ws.send(text);
  }

  close(): Promise<void> {
    if (this.#ws.readyState === this.#ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      this.#ws.close();
    });
  }
}
