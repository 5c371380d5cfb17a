/** Test helpers: users over the admin API, sign-in tokens, and a hand-driven SIP user agent on UDP. */
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { fileURLToPath } from 'node:url';
import { udpPeer, statusOf, type RawPeer } from '../../../test/helpers/raw-sip.ts';
import { challengeOf, digestAnswer } from '../../../test/helpers/digest-peer.ts';

export const D = 'example.test';
export const pluginDir = fileURLToPath(new URL('..', import.meta.url));
export { statusOf };

let seq = 0;
export const header = (m: string, name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(m)?.[1]?.trim() ?? '';
export const bodyOf = (m: string): string => m.slice(m.indexOf('\r\n\r\n') + 4);

export async function imHost(options: { storage?: string; config?: Record<string, unknown> } = {}): Promise<TestHost> {
  return createTestHost({ plugins: [pluginDir], sites: [D], ...(options.storage ? { storage: options.storage } : {}), ...(options.config ? { config: options.config } : {}) });
}

export async function addUser(host: TestHost, username: string, displayName = username): Promise<void> {
  const res = await host.adminFetch(`/api/admin/sites/${D}/users`, { method: 'POST', body: JSON.stringify({ username, password: `${username}-secret-pw`, displayName }) });
  if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
}

export async function setConfig(host: TestHost, config: Record<string, unknown>): Promise<void> {
  const res = await host.adminFetch(`/api/admin/sites/${D}/plugins/im`, { method: 'PUT', body: JSON.stringify({ enabled: true, config }) });
  if (!res.ok) throw new Error(`config: ${res.status} ${await res.text()}`);
}

/** A signed-in user's fetch against the IM API of the site. */
export async function webUser(host: TestHost, username: string): Promise<(path: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; json: any }>> {
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, site: D, password: `${username}-secret-pw` }),
  });
  if (!login.ok) throw new Error(`login ${username}: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  return async (path, init = {}) => {
    const res = await fetch(`${host.url}/api/plugins/im/sites/${D}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

/**
 * A SIP client for one user on its own UDP socket: registers with digest,
 * sends MESSAGE, and answers every MESSAGE it receives with `answerStatus`
 * (200 by default), keeping them in `inbox`.
 */
export class SipUser {
  readonly inbox: string[] = [];
  answerStatus = 200;
  #taken = 0;
  #branches = new Set<string>();
  #waiters: Array<() => void> = [];
  private constructor(readonly host: TestHost, readonly user: string, readonly peer: RawPeer) {}

  static async open(host: TestHost, user: string): Promise<SipUser> {
    const peer = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
    const ua = new SipUser(host, user, peer);
    const push = peer.received.push.bind(peer.received);
    // Answer requests as they arrive: the server waits for our final response.
    peer.received.push = (...items: string[]) => {
      for (const m of items) if (m.startsWith('MESSAGE ')) ua.#answerRequest(m);
      return push(...items);
    };
    return ua;
  }

  #answerRequest(m: string): void {
    // A retransmission (same branch) is answered again but not counted twice.
    const branch = /^Via:.*;branch=([^;\s]+)/mi.exec(m)?.[1] ?? '';
    if (!this.#branches.has(branch)) {
      this.#branches.add(branch);
      this.inbox.push(m);
      for (const wake of this.#waiters.splice(0)) wake();
    }
    if (this.answerStatus === 0) return; // a client that never answers
    const keep = m.split('\r\n').filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l));
    this.peer.send([`SIP/2.0 ${this.answerStatus} Answer`, ...keep, `To: ${header(m, 'To')};tag=ua${++seq}`, 'Content-Length: 0', '', ''].join('\r\n'));
  }

  #request(method: string, to: string, o: { callId: string; cseq?: number; auth?: string; authHeader?: string; body?: string; contentType?: string; expires?: number; ruri?: string }): string {
    const body = o.body ?? '';
    return [
      `${method} ${o.ruri ?? `sip:${to}@${D}`} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.peer.port};branch=z9hG4bKim${++seq}x${Date.now()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.user}@${D}>;tag=f${o.callId}`,
      `To: <sip:${to}@${D}>`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq ?? 1} ${method}`,
      `Contact: <sip:${this.user}@127.0.0.1:${this.peer.port}>`,
      ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
      ...(o.auth ? [`${o.authHeader ?? 'Authorization'}: ${o.auth}`] : []),
      ...(body ? [`Content-Type: ${o.contentType ?? 'text/plain'}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  async register(expires = 300): Promise<void> {
    const callId = `reg-${this.user}-${this.peer.port}-${++seq}`;
    const base = { callId, expires, ruri: `sip:${D}` };
    this.peer.send(this.#request('REGISTER', this.user, base));
    const ch = await this.peer.next((m) => m.includes(`Call-ID: ${callId}`) && statusOf(m) >= 200, 10_000);
    const c = challengeOf(ch);
    const auth = digestAnswer({ username: this.user, password: `${this.user}-secret-pw`, realm: c.realm, nonce: c.nonce, algorithm: c.algorithm, method: 'REGISTER', uri: `sip:${D}` });
    const cseq = ++seq + 1;
    this.peer.send(this.#request('REGISTER', this.user, { ...base, cseq, auth }));
    const ok = await this.peer.next((m) => m.includes(`Call-ID: ${callId}`) && m.includes(`CSeq: ${cseq} REGISTER`) && statusOf(m) >= 200, 10_000);
    if (statusOf(ok) !== 200) throw new Error(`register ${this.user}: ${ok}`);
  }

  /** Send a MESSAGE and return the final response. */
  async send(to: string, body: string, contentType = 'text/plain'): Promise<string> {
    const callId = `msg-${this.user}-${++seq}-${Date.now()}`;
    this.peer.send(this.#request('MESSAGE', to, { callId, body, contentType }));
    return this.peer.next((m) => m.startsWith('SIP/2.0') && m.includes(`Call-ID: ${callId}`) && statusOf(m) >= 200, 20_000);
  }

  /** The next MESSAGE received (in order of arrival, each once); `match` must hold for it. */
  async receive(ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.inbox.length <= this.#taken) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.user}: no MESSAGE within ${ms} ms (inbox has ${this.inbox.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.inbox[this.#taken++]!;
  }

  /** Wait until nothing more arrives for `quietMs`, then return how many MESSAGEs came in all. */
  async settle(quietMs = 1500): Promise<number> {
    for (let i = 0; i < 20; i++) {
      const before = this.inbox.length;
      await new Promise((r) => setTimeout(r, quietMs));
      if (this.inbox.length === before) break;
    }
    return this.inbox.length;
  }

  close(): Promise<void> {
    return this.peer.close();
  }
}
