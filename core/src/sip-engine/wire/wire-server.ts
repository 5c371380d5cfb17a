/** The TCP listener that drachtio-srf apps connect to (`srf.connect`). */
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { AppConnection, type AppConnectionHandlers } from './app-connection.ts';

export interface WireServerOptions {
  host: string;
  port: number;
  secret: string;
  /** Unauthenticated connections are dropped after this long. */
  authTimeoutMs?: number;
}

export type WireHandlers = Omit<AppConnectionHandlers, 'authenticate'>;

export class WireServer {
  readonly #opts: WireServerOptions;
  readonly #handlers: WireHandlers;
  readonly #server: net.Server;
  readonly #conns = new Set<AppConnection>();

  constructor(opts: WireServerOptions, handlers: WireHandlers) {
    this.#opts = opts;
    this.#handlers = handlers;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as net.AddressInfo).port);
      });
    });
  }

  get connections(): AppConnection[] {
    return [...this.#conns];
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Serve an app over a socket that did not come through the listener (an in-process LoopbackSocket). */
  adopt(socket: net.Socket): void {
    this.#accept(socket);
  }

  #accept(socket: net.Socket): void {
    const timer = setTimeout(() => {
      if (!conn.authenticated) conn.close();
    }, this.#opts.authTimeoutMs ?? 10000);
    timer.unref();
    const conn = new AppConnection(socket, {
      ...this.#handlers,
      authenticate: (_c, secret) => {
        const a = Buffer.from(secret);
        const b = Buffer.from(this.#opts.secret);
        return a.length === b.length && timingSafeEqual(a, b);
      },
      closed: (c) => {
        clearTimeout(timer);
        this.#conns.delete(c);
        this.#handlers.closed(c);
      },
    });
    this.#conns.add(conn);
  }
}
