/**
 * The embedded SIP engine: a drachtio-server replacement in TypeScript.
 * Transports feed the transaction and dialog layers; drachtio-srf apps
 * connect over the wire protocol and see what they would see with the
 * C++ server.
 */
import type { Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import { TransportLayer, parseContact } from './transport/index.ts';
import type { BoundListener, ListenSpec, TlsMaterial } from './transport/types.ts';
import { DEFAULT_TIMERS, type TimerConfig } from './transaction/timers.ts';
import { EngineState, DEFAULT_OVERLOAD, type OverloadLimits } from './engine-state.ts';
import { LocalAddresses } from './local-addresses.ts';
import { WireServer } from './wire/wire-server.ts';
import type { AppConnection, ProxyCommand, SipCommand } from './wire/app-connection.ts';
import { readAppMessage } from './wire/app-message.ts';
import { LoopbackSocket } from './wire/loopback-socket.ts';
import { handleInbound, popOwnRoutes } from './inbound.ts';
import { directInDialog, directOutOfDialog, requestFromApp } from './app-requests.ts';
import type { DirectTarget } from './direct-methods.ts';
import { responseFromApp } from './app-responses.ts';
import { ProxySession, parseDuration } from './proxy/proxy-session.ts';
import { SipEngineError } from './errors.ts';
import { appGone } from './inbound-dispatch.ts';
import { answerFromHost, type HostAnswer, type HostRequest } from './host-requests.ts';

export interface SipEngineOptions {
  /** drachtio-style contacts, e.g. `sip:127.0.0.1:5060;transport=udp,tcp`. */
  contacts: string[];
  /** Where drachtio-srf apps connect, and the shared secret they must present. */
  wire: { host: string; port: number; secret: string };
  tls?: TlsMaterial;
  timers?: Partial<TimerConfig>;
  maxMessageSize?: number;
  idleTimeoutMs?: number;
  /** Bounds past which new out-of-dialog requests are answered 503 + Retry-After (defaults: DEFAULT_OVERLOAD). */
  overload?: Partial<OverloadLimits>;
  logger?: Logger;
}

export class SipEngine {
  readonly #opts: SipEngineOptions;
  readonly #log: Logger;
  #state?: EngineState;
  #wire?: WireServer;
  #transports?: TransportLayer;
  #wirePort = 0;
  #started = false;

  constructor(opts: SipEngineOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? pino({ level: 'silent' });
  }

  /** The bound wire-protocol port (after start). */
  get wirePort(): number {
    return this.#wirePort;
  }

  sipListeners(): BoundListener[] {
    return this.#transports?.listeners() ?? [];
  }

  /** Counters for monitoring and tests. */
  stats(): { dialogs: number; serverTransactions: number; answeredRequests: number; clientTransactions: number; apps: number; pendingRequests: number; overloadRejected: number; hostRequests: number; answeredDroppedEarly: number } {
    const s = this.#state;
    return {
      dialogs: s?.dialogs.size ?? 0,
      serverTransactions: s?.serverById.size ?? 0,
      /** Non-INVITE requests over UDP answered within Timer J, kept only to answer retransmissions. */
      answeredRequests: s?.answered.size ?? 0,
      clientTransactions: s?.clientById.size ?? 0,
      apps: this.#wire?.connections.length ?? 0,
      pendingRequests: s?.pendingRequests ?? 0,
      overloadRejected: s?.overloadRejected ?? 0,
      /** Requests the host answered without the wire (serveHost). */
      hostRequests: s?.hostRequests ?? 0,
      /** Answered requests dropped before Timer J because the store was full (overload.maxAnsweredRequests). */
      answeredDroppedEarly: s?.answered.droppedEarly ?? 0,
    };
  }

  /**
   * Transactions, and answers kept for Timer J, in the engine now: what a burst of
   * requests leaves in flight for up to 32 s after it (runtime.compactWhenIdle waits for them).
   */
  inFlight(): number {
    const s = this.#state;
    return s ? s.serverById.size + s.answered.size + s.clientById.size : 0;
  }

  /** Requests still waiting for their final response, by method (diagnostics: walks every transaction). */
  pendingByMethod(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.#state?.serverById.values() ?? []) {
      if (t.finalStatus) continue;
      const m = t.request.method;
      out[m] = (out[m] ?? 0) + 1;
    }
    return out;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    const listen: ListenSpec[] = this.#opts.contacts.flatMap((c) => parseContact(c));
    const maxMessageSize = this.#opts.maxMessageSize ?? 65535;
    const transports = new TransportLayer(
      { listen, ...(this.#opts.tls ? { tls: this.#opts.tls } : {}), maxMessageSize, idleTimeoutMs: this.#opts.idleTimeoutMs ?? 600_000 },
      this.#log,
    );
    const timers = { ...DEFAULT_TIMERS, ...this.#opts.timers };
    const state = new EngineState(transports, timers, this.#log, { ...DEFAULT_OVERLOAD, ...this.#opts.overload });
    transports.on('message', (ev) => {
      try {
        handleInbound(state, ev, { maxMessageSize });
      } catch (err) {
        this.#log.error({ err }, 'inbound message handling failed');
      }
    });
    transports.on('error', (err) => this.#log.debug({ err }, 'transport error'));
    await transports.start();
    state.local = new LocalAddresses(transports.listeners());
    const wire = new WireServer(this.#opts.wire, {
      hostport: () => state.local.describe(),
      route: (conn, verb) => state.routes.add(verb, conn),
      removeRoute: (conn, verb) => state.routes.remove(verb, conn),
      sip: (conn, cmd) => this.#onSip(state, conn, cmd),
      proxy: (conn, cmd) => this.#onProxy(state, conn, cmd),
      closed: (conn) => appGone(state, conn),
      protocolError: (conn, err) => this.#log.warn({ app: conn.id, err: err.message }, 'wire protocol error'),
    });
    try {
      this.#wirePort = await wire.listen();
    } catch (err) {
      await transports.close();
      throw err;
    }
    this.#state = state;
    this.#wire = wire;
    this.#transports = transports;
    this.#started = true;
    this.#log.info({ wirePort: this.#wirePort, sip: state.local.describe() }, 'SIP engine started');
  }

  /**
   * A connection to the engine's wire for an app in this process: the
   * returned socket is the app's end (hand it to drachtio-srf); the app still
   * authenticates with the secret. No TCP in between (see LoopbackSocket).
   */
  openLoopback(): LoopbackSocket {
    const [app, engine] = LoopbackSocket.pair();
    this.adoptApp(engine);
    return app;
  }

  /**
   * Send a request without the wire, for the host's own requests: inside a
   * dialog the engine keeps (presence NOTIFYs) or out of dialog to a URI
   * (IM MESSAGEs to a user's contacts). Resolves with the final status (481
   * when the dialog is gone, 408 on timeout, 503 when it cannot be sent).
   */
  requestDirect(target: DirectTarget, method: string, headers: Record<string, string>, body?: string): Promise<number> {
    if (!this.#state || !this.#started) return Promise.resolve(503);
    return 'dialogId' in target
      ? directInDialog(this.#state, target.dialogId, method, headers, body)
      : directOutOfDialog(this.#state, target.uri, method, headers, body);
  }

  /**
   * The host answers out-of-dialog requests of these methods itself,
   * without the wire (the core's registrar: REGISTER): each goes to
   * `deliver` as plain data, and answerHost() sends the response. Methods
   * not listed, and every request while none are, go to the apps as before.
   * An empty list (or no deliver) stops it.
   */
  serveHost(methods: readonly string[], deliver?: (request: HostRequest) => void): void {
    if (!this.#state) throw new Error('the SIP engine is not started');
    this.#state.host = deliver && methods.length ? { methods: new Set(methods.map((m) => m.toUpperCase())), deliver } : undefined;
  }

  /** The host's answer to a request serveHost delivered; false when that transaction is gone or already answered. */
  answerHost(answer: HostAnswer): boolean {
    return this.#state ? answerFromHost(this.#state, answer) : false;
  }

  /**
   * Serve the wire protocol on a socket the caller already holds (the
   * engine's end of an in-memory or cross-thread connection); the app on the
   * other end still authenticates with the secret.
   */
  adoptApp(socket: Socket): void {
    if (!this.#wire) throw new Error('the SIP engine is not started');
    this.#wire.adopt(socket);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#state) this.#state.stopping = true;
    await this.#wire?.close();
    await this.#transports?.close();
    for (const d of this.#state?.dialogs.all() ?? []) this.#state?.dialogs.remove(d);
    for (const t of this.#state?.serverById.values() ?? []) t.terminate();
    for (const t of this.#state?.clientById.values() ?? []) t.terminate();
    this.#state?.stopTimers();
  }

  #onSip(s: EngineState, conn: AppConnection, cmd: SipCommand): void {
    let msg;
    try {
      msg = readAppMessage(cmd.raw);
    } catch (err) {
      conn.nok(cmd.msgId, (err as Error).message);
      return;
    }
    if (msg.isRequest) void requestFromApp(s, conn, cmd, msg);
    else responseFromApp(s, conn, cmd, msg);
  }

  #onProxy(s: EngineState, conn: AppConnection, cmd: ProxyCommand): void {
    const txn = s.serverById.get(cmd.txnId);
    if (!txn || txn.finalStatus) {
      conn.nok(cmd.msgId, new SipEngineError('SIP_ERR_NO_TRANSACTION', cmd.txnId).message);
      return;
    }
    const req = txn.request;
    popOwnRoutes(s, req);
    try {
      const extra = readAppMessage(cmd.raw || `${req.method} ${req.uri} SIP/2.0\r\n\r\n`);
      for (const h of extra.headers) req.set(h.name, h.value);
    } catch {
      /* headers the app asked for are optional */
    }
    new ProxySession(s, txn, req, {
      destinations: cmd.destinations,
      remainInDialog: cmd.remainInDialog,
      followRedirects: cmd.followRedirects,
      simultaneous: cmd.simultaneous,
      provisionalTimeoutMs: parseDuration(cmd.provisionalTimeout),
      finalTimeoutMs: parseDuration(cmd.finalTimeout),
      app: { conn, msgId: cmd.msgId },
    }).start();
  }
}
