/**
 * The live channel: one WebSocket per browser session carries every event
 * plugins push to that user, and the messages the client sends back
 * (typing, idle reports). Frames are JSON:
 *
 *   server → client  { "type": "presence.changed", "data": {...} }
 *                    { "type": "reply", "id": 7, "ok": true, "data": ... }
 *                    { "type": "error", "id"?: 7, "code": "CORE_ERR_LIVE_…", "message": "…" }
 *   client → server  { "type": "im.typing", "id"?: 7, "data": {...} }
 *
 * A bad frame gets an error frame and changes nothing; the socket stays up.
 * Events go only to sites where the pushing plugin is enabled and active.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveClient, LiveHandler } from '@switchboard/sdk';
import { CORE_ERRORS } from '../errors.ts';
import { reasonOf, withDeadline } from '../host/containment.ts';

/** The part of a `ws` WebSocket the hub uses (tests pass fakes of nothing: real sockets only). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'pong', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface LiveHubOptions {
  /** Whether `pluginId` is ready and enabled for `site`. */
  isActive(site: string, pluginId: string): boolean;
  /** Plugin ids that may use the channel (permissions.live), for the hello frame. */
  livePlugins(): readonly string[];
  /** Deadline for a client-message handler. */
  handlerTimeoutMs: number;
  /** Report a plugin handler failure (breaker accounting). */
  onFailure(pluginId: string, reason: string): void;
  log: Logger;
  /** Largest accepted client frame in bytes (default 64 KiB). */
  maxFrameBytes?: number;
  /** Client frames allowed per second per session before they are refused (default 50). */
  maxFramesPerSecond?: number;
  /** Bytes queued on a socket before the session is dropped as too slow (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Ping interval; a session that missed one pong is dropped (default 30 s). */
  heartbeatMs?: number;
}

interface Session extends LiveClient {
  readonly socket: LiveSocket;
  alive: boolean;
  windowStart: number;
  frames: number;
}

const OPEN = 1;
const OWNED_TYPE = /^([a-z][a-z0-9-]*)\.[a-zA-Z0-9._-]+$/;

export class LiveHub {
  readonly #opts: Required<Omit<LiveHubOptions, 'log'>> & { log: Logger };
  /** `site\0username` → open sessions. */
  readonly #byUser = new Map<string, Set<Session>>();
  readonly #handlers = new Map<string, { pluginId: string; handler: LiveHandler }>();
  readonly #presence: Array<{ pluginId: string; handler: (client: LiveClient, online: boolean) => void }> = [];
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(options: LiveHubOptions) {
    this.#opts = { maxFrameBytes: 64 * 1024, maxFramesPerSecond: 50, maxBufferedBytes: 4 * 1024 * 1024, heartbeatMs: 30_000, ...options };
    this.#heartbeat = setInterval(() => this.#beat(), this.#opts.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Checks that `type` belongs to the plugin: `<id>.<name>`. */
  static owns(pluginId: string, type: string): boolean {
    const m = OWNED_TYPE.exec(type);
    return m !== null && m[1] === pluginId;
  }

  on(pluginId: string, type: string, handler: LiveHandler): void {
    this.#handlers.set(type, { pluginId, handler });
  }

  onPresence(pluginId: string, handler: (client: LiveClient, online: boolean) => void): void {
    this.#presence.push({ pluginId, handler });
  }

  /** Forget a plugin's handlers (it failed or was unloaded). */
  removePlugin(pluginId: string): void {
    for (const [type, h] of this.#handlers) if (h.pluginId === pluginId) this.#handlers.delete(type);
    for (let i = this.#presence.length - 1; i >= 0; i--) if (this.#presence[i]!.pluginId === pluginId) this.#presence.splice(i, 1);
  }

  toUser(pluginId: string, site: string, username: string, type: string, data: unknown): number {
    if (!this.#opts.isActive(site, pluginId)) return 0;
    const sessions = this.#byUser.get(key(site, username));
    if (!sessions) return 0;
    const frame = JSON.stringify({ type, data });
    let sent = 0;
    for (const s of sessions) if (this.#send(s, frame)) sent++;
    return sent;
  }

  toSite(pluginId: string, site: string, type: string, data: unknown): number {
    if (!this.#opts.isActive(site, pluginId)) return 0;
    const frame = JSON.stringify({ type, data });
    let sent = 0;
    for (const sessions of this.#byUser.values()) {
      for (const s of sessions) if (s.site === site && this.#send(s, frame)) sent++;
    }
    return sent;
  }

  sessionCount(site: string, username: string): number {
    return this.#byUser.get(key(site, username))?.size ?? 0;
  }

  /** Every open session (diagnostics, tests). */
  get size(): number {
    let n = 0;
    for (const s of this.#byUser.values()) n += s.size;
    return n;
  }

  /** Take over an accepted socket for a signed-in user. */
  attach(socket: LiveSocket, who: { site: string; username: string }): LiveClient {
    const session: Session = { site: who.site, username: who.username.toLowerCase(), sessionId: randomUUID(), socket, alive: true, windowStart: Date.now(), frames: 0 };
    if (this.#closed) {
      socket.close(1001, 'server stopping');
      return session;
    }
    const k = key(session.site, session.username);
    let set = this.#byUser.get(k);
    const first = !set || set.size === 0;
    if (!set) this.#byUser.set(k, (set = new Set()));
    set.add(session);
    socket.on('pong', () => { session.alive = true; });
    socket.on('error', (err) => this.#opts.log.debug({ err, session: session.sessionId }, 'live socket error'));
    socket.on('close', () => this.#detach(session));
    socket.on('message', (raw, isBinary) => void this.#onFrame(session, raw, isBinary));
    const plugins = this.#opts.livePlugins().filter((id) => this.#opts.isActive(session.site, id));
    this.#send(session, JSON.stringify({ type: 'hello', data: { sessionId: session.sessionId, site: session.site, username: session.username, plugins } }));
    if (first) this.#announce(session, true);
    return session;
  }

  /** Close every socket (server stopping); clients reconnect to the next server. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const sessions of this.#byUser.values()) {
      for (const s of sessions) s.socket.close(1001, 'server stopping');
    }
  }

  #detach(session: Session): void {
    const k = key(session.site, session.username);
    const set = this.#byUser.get(k);
    if (!set?.delete(session)) return;
    if (set.size === 0) {
      this.#byUser.delete(k);
      this.#announce(session, false);
    }
  }

  #announce(client: Session, online: boolean): void {
    const view: LiveClient = { site: client.site, username: client.username, sessionId: client.sessionId };
    for (const { pluginId, handler } of this.#presence) {
      if (!this.#opts.isActive(client.site, pluginId)) continue;
      try {
        handler(view, online);
      } catch (err) {
        this.#opts.onFailure(pluginId, `live presence handler: ${reasonOf(err)}`);
      }
    }
  }

  #send(s: Session, frame: string): boolean {
    if (s.socket.readyState !== OPEN) return false;
    if (s.socket.bufferedAmount > this.#opts.maxBufferedBytes) {
      // A client that does not read would hold memory without bound; it reconnects and reloads.
      s.socket.close(1013, 'too slow: reconnect');
      return false;
    }
    s.socket.send(frame);
    return true;
  }

  #error(s: Session, code: keyof typeof CORE_ERRORS, detail: string, id?: unknown): void {
    const spec = CORE_ERRORS[code]!;
    this.#send(s, JSON.stringify({ type: 'error', ...(id !== undefined ? { id } : {}), code, message: `${spec.message}: ${detail}` }));
  }

  async #onFrame(s: Session, raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
    const now = Date.now();
    if (now - s.windowStart >= 1000) { s.windowStart = now; s.frames = 0; }
    if (++s.frames > this.#opts.maxFramesPerSecond) {
      this.#error(s, 'CORE_ERR_LIVE_RATE_LIMITED', `more than ${this.#opts.maxFramesPerSecond} messages a second`);
      return;
    }
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
    if (isBinary) return this.#error(s, 'CORE_ERR_LIVE_BAD_FRAME', 'binary frames are not accepted; send JSON text');
    if (buf.length > this.#opts.maxFrameBytes) return this.#error(s, 'CORE_ERR_LIVE_BAD_FRAME', `frame of ${buf.length} bytes is over ${this.#opts.maxFrameBytes}`);
    let msg: { type?: unknown; id?: unknown; data?: unknown };
    try {
      msg = JSON.parse(buf.toString('utf8')) as typeof msg;
    } catch (err) {
      return this.#error(s, 'CORE_ERR_LIVE_BAD_FRAME', `not JSON: ${reasonOf(err)}`);
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      return this.#error(s, 'CORE_ERR_LIVE_BAD_FRAME', 'expected {"type": "<plugin>.<name>", "id"?: n, "data"?: …}');
    }
    const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : undefined;
    if (msg.type === 'ping') return void this.#send(s, JSON.stringify({ type: 'pong', ...(id !== undefined ? { id } : {}) }));
    const entry = this.#handlers.get(msg.type);
    if (!entry || !this.#opts.isActive(s.site, entry.pluginId)) {
      return this.#error(s, 'CORE_ERR_LIVE_UNKNOWN_TYPE', `"${msg.type}" has no handler on site ${s.site}`, id);
    }
    const client: LiveClient = { site: s.site, username: s.username, sessionId: s.sessionId };
    try {
      const result = await withDeadline(() => entry.handler(msg.data, client), this.#opts.handlerTimeoutMs);
      if (id !== undefined) this.#send(s, JSON.stringify({ type: 'reply', id, ok: true, data: result ?? null }));
    } catch (err) {
      const coded = err as { code?: unknown; statusCode?: unknown };
      const code = typeof coded.code === 'string' ? coded.code : 'CORE_ERR_LIVE_HANDLER_FAILED';
      // A refusal a plugin meant (a coded error with a 4xx) is the client's problem, not a plugin failure.
      const clientError = typeof coded.statusCode === 'number' && coded.statusCode < 500;
      if (!clientError) this.#opts.onFailure(entry.pluginId, `live message ${msg.type}: ${reasonOf(err)}`);
      if (id !== undefined) this.#send(s, JSON.stringify({ type: 'reply', id, ok: false, error: { code, message: reasonOf(err) } }));
    }
  }

  #beat(): void {
    for (const sessions of this.#byUser.values()) {
      for (const s of sessions) {
        if (!s.alive) { s.socket.terminate(); continue; }
        s.alive = false;
        if (s.socket.readyState === OPEN) s.socket.ping();
      }
    }
  }
}

function key(site: string, username: string): string {
  return `${site}\u0000${username.toLowerCase()}`;
}
