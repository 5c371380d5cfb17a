/**
 * A browser stand-in on the host's live channel: signs in over HTTP, opens
 * `GET /api/live?token=` with the `ws` client, keeps every frame, and waits
 * for the ones a test expects. Requests carry an id and resolve with the reply.
 */
import WebSocket from 'ws';
import type { TestHost } from '@switchboard/sdk';
import { D } from './helpers.ts';

export interface Frame {
  type: string;
  id?: number;
  ok?: boolean;
  data?: any;
  error?: { code: string; message: string };
  code?: string;
  message?: string;
}

export class LiveUser {
  readonly frames: Frame[] = [];
  #taken = new Set<Frame>();
  #waiters: Array<() => void> = [];
  #nextId = 1;
  private constructor(readonly user: string, readonly socket: WebSocket, readonly hello: Frame) {}

  static async open(host: TestHost, user: string): Promise<LiveUser> {
    const login = await fetch(`${host.url}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, site: D, password: `${user}-secret-pw` }),
    });
    if (!login.ok) throw new Error(`login ${user}: ${login.status} ${await login.text()}`);
    const { token } = (await login.json()) as { token: string };
    const socket = new WebSocket(`${host.url.replace(/^http/, 'ws')}/api/live?token=${encodeURIComponent(token)}`);
    const early: Frame[] = [];
    const onEarly = (raw: WebSocket.RawData) => early.push(JSON.parse(raw.toString()) as Frame);
    socket.on('message', onEarly);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('close', (code, reason) => reject(new Error(`live socket closed: ${code} ${reason.toString()}`)));
    });
    for (let i = 0; i < 200 && !early.some((f) => f.type === 'hello'); i++) await new Promise((r) => setTimeout(r, 25));
    const hello = early.find((f) => f.type === 'hello');
    if (!hello) throw new Error(`${user}: no hello frame`);
    const client = new LiveUser(user, socket, hello);
    socket.off('message', onEarly);
    client.frames.push(...early.filter((f) => f !== hello));
    socket.on('message', (raw) => {
      client.frames.push(JSON.parse(raw.toString()) as Frame);
      for (const wake of client.#waiters.splice(0)) wake();
    });
    return client;
  }

  /** The first frame not yet taken that matches, waiting up to `ms` for it. */
  async next(match: (f: Frame) => boolean, ms = 15_000, what = 'a matching frame'): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find((f) => !this.#taken.has(f) && match(f));
      if (found) {
        this.#taken.add(found);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.user}: no ${what} within ${ms} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** The next event of `type` (not yet taken). */
  event(type: string, match: (data: any) => boolean = () => true, ms?: number): Promise<any> {
    return this.next((f) => f.type === type && match(f.data), ms, `${type} event`).then((f) => f.data);
  }

  /** Events of `type` received so far. */
  events(type: string): any[] {
    return this.frames.filter((f) => f.type === type).map((f) => f.data);
  }

  /** Send `{type, id, data}` and resolve with the reply frame. */
  async request(type: string, data: unknown): Promise<Frame> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ type, id, data }));
    return this.next((f) => (f.type === 'reply' || f.type === 'error') && f.id === id, 15_000, `reply ${id} to ${type}`);
  }

  /** Wait `ms` and return how many frames of `type` came in all. */
  async quiet(type: string, ms = 700): Promise<number> {
    await new Promise((r) => setTimeout(r, ms));
    return this.events(type).length;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
