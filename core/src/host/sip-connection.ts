/**
 * The core's one drachtio-srf `Srf` and its link to a SIP engine: the
 * embedded one (started here, wire on loopback with a random secret) or an
 * external drachtio-server. A failing link never stops the host: it logs
 * what to check and keeps retrying with backoff while HTTP keeps serving.
 */
import type { EngineThreadMemory } from '../sip-engine/engine-thread-main.ts';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/index.ts';
import type { SipRouter } from './sip-router.ts';
import type { DirectTarget } from '../sip-engine/direct-methods.ts';
import type { HostAnswer, HostRequest } from '../sip-engine/host-requests.ts';

interface EngineLike {
  start(): Promise<void>;
  readonly wirePort: number;
  /** An in-process connection to the engine's wire (the app's end). */
  openLoopback?(): net.Socket;
  /** Requests without the wire (see SipRouter.requestInDialog and sendToUser). */
  requestDirect?(target: DirectTarget, method: string, headers: Record<string, string>, body?: string): Promise<number>;
  /** Inbound requests the host answers itself, without the wire (see SipRouter.hostMethods). */
  serveHost?(methods: readonly string[], deliver?: (request: HostRequest) => void): void;
  answerHost?(answer: HostAnswer): boolean;
  /** Transactions and Timer J answers in the engine (on this thread only: an engine thread watches its own). */
  inFlight?(): number;
  /** The engine thread's heap (sip.engineThread = "worker" only). */
  memory?(collect?: boolean, compact?: boolean): Promise<EngineThreadMemory | undefined>;
  stop(): Promise<void>;
}

type EngineCtor = new (opts: {
  contacts: string[];
  wire: { host: string; port: number; secret: string };
  tls?: { cert: string; key: string };
  maxMessageSize?: number;
  timers?: { t1: number; t2: number; t4: number };
  logger?: Logger;
  /** Only the engine thread takes it (on the main thread the host's own watch covers the engine). */
  compactWhenIdle?: boolean;
}) => EngineLike;

/** Internals of drachtio-srf's wire client we need to stop a retry loop. */
interface WireInternals {
  closing?: boolean;
  reconnectVars?: { retryTimer?: NodeJS.Timeout | null };
}

const MAX_RETRY_DELAY_MS = 5000;

export type SipLinkState = 'idle' | 'connecting' | 'connected' | 'failed';

export class SipConnection {
  readonly #config: SwitchboardConfig['sip'];
  readonly #log: Logger;
  readonly #router: SipRouter;
  #engine?: EngineLike;
  #srf?: Srf;
  #state: SipLinkState = 'idle';
  #lastError?: string;
  #target?: string;
  /** The engine hands the router's hostMethods() over without the wire. */
  #serving = false;

  readonly #compactWhenIdle: boolean;

  /** `compactWhenIdle`: runtime.compactWhenIdle, for the engine's own thread (sip.engineThread = "worker"). */
  constructor(config: SwitchboardConfig['sip'], log: Logger, router: SipRouter, opts: { compactWhenIdle?: boolean } = {}) {
    this.#compactWhenIdle = opts.compactWhenIdle ?? false;
    this.#config = config;
    this.#log = log.child({ component: 'sip' });
    this.#router = router;
  }

  /** The core's Srf, once connecting (for core SIP services such as location routing). */
  get srf(): Srf | undefined {
    return this.#srf;
  }

  /** The embedded engine's own thread's V8 heap, when it runs on one (see EngineThread.memory). */
  engineThreadMemory(collect = false, compact = false): Promise<EngineThreadMemory | undefined> {
    return this.#engine?.memory?.(collect, compact) ?? Promise.resolve(undefined);
  }

  /** What the embedded engine has in flight when it runs on this thread (see SipEngine.inFlight); 0 otherwise. */
  inFlight(): number {
    return this.#engine?.inFlight?.() ?? 0;
  }

  get state(): SipLinkState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /**
   * Start the embedded engine if configured, then connect the Srf. Resolves
   * once the attempt is under way; the link may come up later.
   */
  async start(): Promise<void> {
    let wire: { host: string; port: number; secret: string };
    if (this.#config.engine === 'embedded') {
      const secret = this.#config.wire.secret ?? randomBytes(24).toString('base64url');
      // Imported lazily: a host pointed at an external engine never loads the embedded one.
      // sip.engineThread = "worker" runs it on a thread of its own (the main thread keeps only the apps).
      const Engine = this.#config.engineThread === 'worker'
        ? ((await import('../sip-engine/engine-thread.ts')) as unknown as { EngineThread: EngineCtor }).EngineThread
        : ((await import('../sip-engine/index.ts')) as unknown as { SipEngine: EngineCtor }).SipEngine;
      this.#engine = new Engine({
        contacts: this.#config.contacts,
        wire: { host: this.#config.wire.host, port: this.#config.wire.port, secret },
        ...(this.#config.tls ? { tls: this.#config.tls } : {}),
        maxMessageSize: this.#config.maxMessageSize,
        timers: this.#config.timers,
        logger: this.#log.child({ component: 'sip-engine' }),
        compactWhenIdle: this.#compactWhenIdle,
      });
      await this.#engine.start();
      wire = { host: this.#config.wire.host, port: this.#engine.wirePort, secret };
      const engine = this.#engine;
      if (engine.requestDirect && this.#config.wire.inProcess !== false) {
        // The host's own requests skip the wire, but not ahead of what the app wrote on it in this turn of the
        // loop (a 200 goes out before the NOTIFYs it causes); the engine thread keeps that order on its own.
        const direct = engine.requestDirect.bind(engine);
        this.#router.useDirect(this.#config.engineThread === 'worker'
          ? direct
          : (t, m, h, b) => new Promise<void>((r) => setImmediate(r)).then(() => direct(t, m, h, b)));
      }
    } else {
      wire = this.#config.external!;
    }
    // sip.wire.inProcess = false keeps the embedded engine's wire on TCP (to compare, or to debug with tcpdump).
    const inProcess = this.#engine?.openLoopback && this.#config.wire.inProcess !== false;
    this.#connect(wire, inProcess ? () => this.#engine!.openLoopback!() : undefined);
    const engine = this.#engine;
    const methods = this.#router.hostMethods();
    if (inProcess && engine?.serveHost && engine.answerHost && methods.length) {
      // REGISTER skips the wire and drachtio-srf both ways: the engine hands it over as data, the registrar answers.
      const answer = engine.answerHost.bind(engine);
      try {
        engine.serveHost(methods, (r) => void this.#router.serveHost(r, answer));
        this.#serving = true;
      } catch (err) {
        this.#log.warn({ err }, 'REGISTER goes through the wire: the engine cannot hand it over directly');
      }
    }
  }

  /**
   * srf.connect() opens its socket with net.connect(); for the embedded
   * engine, hand it an in-process socket instead (no TCP round trip per wire
   * message: four SIP messages, each with its echo, per relayed request).
   * The swap lasts only for that one synchronous call. Should drachtio-srf
   * ever stop calling net.connect there, it connects over TCP as before.
   */
  #srfConnect(srf: Srf, opts: Srf.SrfConfig, loopback?: () => net.Socket): void {
    if (!loopback) {
      srf.connect(opts);
      return;
    }
    const real = net.connect;
    let socket: net.Socket | undefined;
    (net as { connect: unknown }).connect = (...args: unknown[]) => {
      if (socket) return (real as (...a: unknown[]) => net.Socket)(...args);
      socket = loopback();
      return socket;
    };
    try {
      srf.connect(opts);
    } finally {
      net.connect = real;
    }
    if (!socket) {
      this.#log.warn('drachtio-srf did not open its socket with net.connect; the wire runs over TCP');
      return;
    }
    const opened = socket;
    // What a TCP socket does once connected: srf then authenticates and routes.
    process.nextTick(() => opened.emit('connect'));
  }

  #connect(wire: { host: string; port: number; secret: string }, loopback?: () => net.Socket): void {
    const srf = new Srf();
    this.#srf = srf;
    this.#router.attach(srf);
    this.#target = `${wire.host}:${wire.port}`;
    this.#state = 'connecting';
    const what = this.#config.engine === 'external'
      ? 'check sip.external.host/port (is drachtio-server running and listening for apps there?) and sip.external.secret'
      : 'the embedded engine did not accept the connection; check sip.wire';
    srf.on('connect', (err: Error | null, hostport: string) => {
      if (err) {
        this.#state = 'failed';
        this.#lastError = `authentication to SIP engine at ${this.#target} failed: ${err.message}`;
        this.#log.error({ code: 'CORE_ERR_SIP_CONNECT_FAILED', target: this.#target }, `${this.#lastError}; ${what}`);
        return;
      }
      this.#state = 'connected';
      this.#lastError = undefined;
      this.#log.info({ target: this.#target, hostport }, 'connected to SIP engine');
    });
    srf.on('error', (err: Error) => {
      this.#state = 'connecting';
      this.#lastError = `cannot reach SIP engine at ${this.#target}: ${err.message}`;
      this.#log.error({ code: 'CORE_ERR_SIP_CONNECT_FAILED', target: this.#target }, `${this.#lastError}; ${what}; retrying with backoff`);
    });
    // reconnect options are not in the typings but are honoured by drachtio-srf's wire client.
    // Despite the typings, connect() returns nothing; failures arrive as 'error' events.
    this.#srfConnect(srf, { ...wire, reconnect: { retryMaxDelay: MAX_RETRY_DELAY_MS } } as Srf.SrfConfig, loopback);
  }

  async stop(): Promise<void> {
    const srf = this.#srf;
    this.#srf = undefined;
    if (srf) {
      const wp = (srf as unknown as { app?: { client?: { wp?: WireInternals } } }).app?.client?.wp;
      if (wp) {
        wp.closing = true;
        if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
      }
      if (this.#state === 'connected') {
        try {
          srf.disconnect();
        } catch (err) {
          this.#log.debug({ err }, 'disconnect from SIP engine');
        }
      }
      srf.removeAllListeners();
      srf.on('error', () => undefined);
    }
    this.#state = 'idle';
    this.#router.useDirect(undefined);
    if (this.#serving) {
      this.#serving = false;
      try {
        this.#engine?.serveHost?.([]);
      } catch {
        /* the engine thread's connection is already closed */
      }
    }
    await this.#engine?.stop();
    this.#engine = undefined;
  }
}
