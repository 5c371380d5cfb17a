// The one WebSocket of a client page (/api/live). It authenticates with the
// session cookie, delivers every server event to `onEvent`, matches replies
// to `send` calls, and reconnects by itself with exponential backoff and
// jitter. A close with code 4401 means the session is gone: no reconnect.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
const SEND_TIMEOUT_MS = 10_000;
/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 5_000;

export class LiveError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class LiveChannel {
  #url;
  #handlers;
  #socket = null;
  #pending = new Map();
  #nextId = 1;
  #attempt = 0;
  #timer = null;
  #stopped = false;
  #openedAt = 0;
  #everConnected = false;
  #waiters = [];

  /**
   * @param {string} url ws(s):// URL of /api/live
   * @param {{ onEvent(type: string, data: unknown): void, onStatus(status: object): void, onSessionEnded(reason: string): void }} handlers
   */
  constructor(url, handlers) {
    this.#url = url;
    this.#handlers = handlers;
    // Come back at once when the network or the tab returns, instead of waiting out the backoff.
    window.addEventListener('online', () => this.#reconnectNow());
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') this.#reconnectNow(); });
  }

  /** The open socket, if any (diagnostics and tests). */
  get socket() {
    return this.#socket;
  }

  get connected() {
    return this.#socket !== null && this.#socket.readyState === WebSocket.OPEN && this.hello !== undefined;
  }

  start() {
    this.#stopped = false;
    this.#connect();
  }

  /** Close for good (sign-out, page leaving). */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close(1000, 'client closing');
    this.#failPending('CLIENT_ERR_CLOSED', 'the client closed the connection');
  }

  /** Send `{type, id, data}`; resolves with the reply's data, rejects with a LiveError. */
  async send(type, data, timeoutMs = SEND_TIMEOUT_MS) {
    if (typeof type !== 'string' || !/^[a-z][a-z0-9-]*\.[a-zA-Z0-9._-]+$/.test(type)) {
      throw new LiveError('CLIENT_ERR_BAD_TYPE', `"${type}" is not a message type; use "<plugin>.<name>"`);
    }
    await this.#waitConnected(timeoutMs);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new LiveError('CLIENT_ERR_TIMEOUT', `no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.send(JSON.stringify(data === undefined ? { type, id } : { type, id, data }));
    });
  }

  #waitConnected(timeoutMs) {
    if (this.connected) return Promise.resolve();
    if (this.#stopped) return Promise.reject(new LiveError('CLIENT_ERR_CLOSED', 'the connection is closed'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new LiveError('CLIENT_ERR_OFFLINE', 'not connected to the server; try again when the connection is back'));
      }, timeoutMs);
      waiter.resolve = () => { clearTimeout(timer); resolve(); };
      waiter.reject = (err) => { clearTimeout(timer); reject(err); };
      this.#waiters.push(waiter);
    });
  }

  #connect() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.hello = undefined;
    this.#handlers.onStatus({ state: 'connecting', attempt: this.#attempt });
    let socket;
    try {
      socket = new WebSocket(this.#url);
    } catch (err) {
      this.#scheduleReconnect(`cannot open: ${err.message}`);
      return;
    }
    this.#socket = socket;
    socket.addEventListener('message', (event) => this.#onFrame(event.data));
    socket.addEventListener('close', (event) => {
      if (this.#socket !== socket) return;
      // Only a connection that got its hello and stayed up a while resets the backoff.
      const stable = this.hello !== undefined && Date.now() - this.#openedAt > STABLE_MS;
      this.#socket = null;
      this.hello = undefined;
      this.#failPending('CLIENT_ERR_DISCONNECTED', 'the connection dropped before the reply came');
      if (event.code === 4401) {
        this.#stopped = true;
        this.#handlers.onStatus({ state: 'signed-out', reason: event.reason });
        this.#handlers.onSessionEnded(event.reason || 'sign in again');
        return;
      }
      if (this.#stopped) return;
      if (stable) this.#attempt = 0;
      this.#scheduleReconnect(event.reason || `closed (${event.code})`);
    });
    // 'error' is always followed by 'close', which does the work.
    socket.addEventListener('error', () => {});
  }

  #scheduleReconnect(reason) {
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.#attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    this.#handlers.onStatus({ state: 'reconnecting', delayMs: delay, attempt: this.#attempt, reason });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #reconnectNow() {
    if (this.#stopped || this.#socket || this.#timer === null) return;
    this.#attempt = 0;
    this.#connect();
  }

  #failPending(code, message) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(new LiveError(code, message));
    }
    this.#pending.clear();
    if (this.#stopped) for (const w of this.#waiters.splice(0)) w.reject(new LiveError(code, message));
  }

  #onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return; // the server only sends JSON; anything else is noise
    }
    if (!frame || typeof frame.type !== 'string') return;
    if (frame.type === 'hello') {
      const reconnect = this.#everConnected;
      this.#everConnected = true;
      this.#openedAt = Date.now();
      this.hello = frame.data;
      this.#handlers.onStatus({ state: 'connected', reconnect, hello: frame.data });
      for (const w of this.#waiters.splice(0)) w.resolve();
      return;
    }
    if (frame.type === 'reply' || (frame.type === 'error' && frame.id !== undefined)) {
      const pending = this.#pending.get(frame.id);
      if (!pending) return;
      this.#pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.type === 'reply' && frame.ok) pending.resolve(frame.data);
      else {
        const error = frame.error ?? frame;
        pending.reject(new LiveError(error.code ?? 'CLIENT_ERR_REFUSED', error.message ?? 'refused'));
      }
      return;
    }
    if (frame.type === 'pong') return;
    this.#handlers.onEvent(frame.type, frame.data, frame);
  }
}
