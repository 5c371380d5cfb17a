/**
 * The core's SIP dispatch: one drachtio-srf middleware per method, which
 * finds the request's site and runs the handlers of plugins enabled there,
 * in dependency order. Plugins never touch the Srf itself.
 */
import Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { SipEndpoint, SipHandler, SipOutgoingRequest, SipRequest, SipResponse, SipSendResult } from '@switchboard/sdk';
import { reasonOf } from './containment.ts';
import { destinationOf } from '../registrar/location.ts';
import { sendsDirect, type DirectTarget } from '../sip-engine/direct-methods.ts';
import type { HostAnswer, HostRequest } from '../sip-engine/host-requests.ts';
import { parseNameAddr } from '../sip-engine/message/index.ts';
import type { SrfReq, SrfRes } from '../registrar/srf-types.ts';
import { HostSipRequest, HostSipResponse } from './host-sip-request.ts';

export interface SipRouterDeps {
  /** Plugin ids in dependency order. */
  order(): readonly string[];
  /** Known site for a domain, or undefined. */
  hasSite(domain: string): boolean;
  /** Enabled for the site and active (set up, breaker closed). */
  serves(site: string, pluginId: string): boolean;
  handlerTimeoutMs: number;
  /** A plugin handler threw or hung; counts towards its breaker. */
  onFailure(pluginId: string, reason: string): void;
  /** The core's own SIP policy around plugin handlers (registrar, authentication, location). */
  core?: CoreSipStage;
  log: Logger;
}

type Next = (err?: unknown) => void;

/** The embedded engine's own path for the host's requests (SipEngine.requestDirect). */
export type DirectRequest = (target: DirectTarget, method: string, headers: Record<string, string>, body?: string) => Promise<number>;

/**
 * drachtio-srf wants a URI even for a request on a stack dialog id; the
 * engine ignores it and sends to the dialog's remote target. A `.invalid`
 * host (RFC 6761) so it can never be dialled by mistake.
 */
const IN_DIALOG_URI = 'sip:in-dialog.invalid';

/** What the core does before and after the plugins' handlers of a site. */
export interface CoreSipStage {
  /** Request for no local domain. */
  foreign(req: SrfReq, res: SrfRes): void;
  /** True when the core answered (REGISTER, a challenge, a scanner). */
  before(req: SrfReq, res: SrfRes, site: string): Promise<boolean>;
  /** No plugin answered (or a plugin asked): route to the addressed user, or to `username`. */
  route(req: Srf.SrfRequest, res: Srf.SrfResponse, site: string, username?: string): Promise<void>;
  /** A user's registered endpoints. */
  endpoints(site: string, username: string): SipEndpoint[];
}

/** Methods the core always handles, even when no plugin declares them. */
const CORE_METHODS = ['REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH', 'OPTIONS', 'REFER', 'NOTIFY', 'INFO', 'UPDATE'];

/** Srf methods that take over a request's transaction (their first argument is the request). */
const TAKEOVER_METHODS = ['createUAS', 'createB2BUA', 'proxyRequest'] as const;

export class SipRouter {
  readonly #deps: SipRouterDeps;
  readonly #handlers = new Map<string, Map<string, SipHandler[]>>();
  /**
   * Requests a handler has shown life on: a provisional response, a proxy,
   * a UAS or B2BUA under way. The handler deadline is for handlers that do
   * nothing; once one of these started, the SIP transaction timers govern.
   */
  readonly #alive = new WeakSet<object>();
  #srf?: Srf;
  #direct?: DirectRequest;
  /** The host is stopping SIP: what it ends unanswered is no answer from the peer (see requestInDialog). */
  #stopping = false;

  constructor(deps: SipRouterDeps) {
    this.#deps = deps;
  }

  /** Methods some plugin handles. */
  get methods(): string[] {
    return [...this.#handlers.keys()];
  }

  add(pluginId: string, method: string, handler: SipHandler): void {
    let byPlugin = this.#handlers.get(method);
    if (!byPlugin) {
      byPlugin = new Map();
      this.#handlers.set(method, byPlugin);
      if (this.#srf) this.#mount(this.#srf, method);
    }
    const list = byPlugin.get(pluginId) ?? [];
    list.push(handler);
    byPlugin.set(pluginId, list);
  }

  removePlugin(pluginId: string): void {
    for (const byPlugin of this.#handlers.values()) byPlugin.delete(pluginId);
  }

  /** A user's registered endpoints (empty when the core has no registrar). */
  endpoints(site: string, username: string): ReturnType<CoreSipStage['endpoints']> {
    return this.#deps.core?.endpoints(site, username) ?? [];
  }

  /** Fork a request to a user's endpoints (404 unknown user, 480 none registered). */
  async routeToUser(req: Srf.SrfRequest, res: Srf.SrfResponse, site: string, username?: string): Promise<void> {
    if (!this.#deps.core) {
      res.send(480);
      return;
    }
    await this.#deps.core.route(req, res, site, username);
  }

  /**
   * Originate `request` to each registered endpoint of a user, in parallel.
   * The endpoint is reached where its registration came from (as location
   * routing does), so NATed and connection-oriented clients get it too.
   */
  async sendToUser(site: string, username: string, request: SipOutgoingRequest): Promise<SipSendResult[]> {
    const srf = this.#srf;
    const endpoints = this.endpoints(site, username);
    if (!srf || !endpoints.length) return [];
    // With the embedded engine, a request that creates no dialog skips the wire (no message built and
    // parsed in drachtio-srf, no echo, no parse of each response): IM's relay path.
    const direct = this.#direct && sendsDirect({ uri: '' }, request.method) ? this.#direct : undefined;
    return Promise.all(endpoints.map(async (e) => {
      const split = e.source.lastIndexOf(':');
      const target = destinationOf({
        contact: e.contact,
        transport: e.transport,
        sourceAddress: e.source.slice(0, split),
        sourcePort: Number(e.source.slice(split + 1)),
      } as Parameters<typeof destinationOf>[0]);
      const status = direct
        ? await direct({ uri: target }, request.method, request.headers ?? {}, request.body).catch(() => 503)
        : await this.#send(srf, target, request);
      return { contact: e.contact, status };
    }));
  }

  /**
   * Send `request` inside a dialog the SIP engine keeps (its stack dialog
   * id). With the embedded engine it goes to the engine directly (no wire,
   * no drachtio-srf parsing of each response); otherwise through the Srf.
   */
  requestInDialog(stackDialogId: string, request: SipOutgoingRequest): Promise<number> {
    const srf = this.#srf;
    const sent = this.#direct
      ? this.#direct({ dialogId: stackDialogId }, request.method, request.headers ?? {}, request.body)
      : srf ? this.#send(srf, IN_DIALOG_URI, request, stackDialogId) : Promise.resolve(503);
    // A request the host's own stop cut short (the engine ends it 503) rejects instead: the peer
    // said nothing, and a plugin should not take it for the peer's refusal (presence keeps the
    // subscription's journal record for the next start then).
    return sent.then((status) => {
      if (status === 503 && this.#stopping) throw new Error('SIP stopped before the request was answered');
      return status;
    });
  }

  /** The host is about to stop SIP (see requestInDialog). */
  stopping(): void {
    this.#stopping = true;
  }

  /** The embedded engine's wire-less path for the host's requests; undefined sends through the Srf. */
  useDirect(fn: DirectRequest | undefined): void {
    this.#direct = fn;
  }

  #send(srf: Srf, uri: string, request: SipOutgoingRequest, stackDialogId?: string): Promise<number> {
    // Past Timer F (32 s) the engine has given up; the guard covers an engine that never answers.
    const GUARD_MS = 40_000;
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(408), GUARD_MS);
      timer.unref();
      const done = (status: number) => {
        clearTimeout(timer);
        resolve(status);
      };
      const opts = { method: request.method, headers: request.headers ?? {}, ...(request.body !== undefined ? { body: request.body } : {}), ...(stackDialogId ? { stackDialogId } : {}) };
      // The callback form is in drachtio-srf but its typings only describe the promise form.
      (srf.request as unknown as (u: string, o: unknown, cb: (err: Error | null, sent?: { on(e: 'response', l: (r: { status: number }) => void): void }) => void) => void)(uri, opts, (err, sent) => {
        if (err || !sent) {
          this.#deps.log.warn({ err, uri }, 'could not send a plugin request');
          done(503);
          return;
        }
        sent.on('response', (response) => {
          if (response.status >= 200) done(response.status);
        });
      });
    });
  }

  /** Install the per-method middleware on the core's Srf. */
  attach(srf: Srf): void {
    this.#srf = srf;
    this.#watchTakeovers(srf);
    if (this.#deps.core) {
      for (const m of CORE_METHODS) if (!this.#handlers.has(m)) this.#handlers.set(m, new Map());
    }
    for (const method of this.#handlers.keys()) this.#mount(srf, method);
  }

  /** The site a request is for: the Request-URI host, else the To host. */
  siteOf(req: Srf.SrfRequest): string | undefined {
    return this.#siteOf(req.uri, toUri(req));
  }

  #siteOf(requestUri: string, toUri: string | undefined): string | undefined {
    for (const uri of [requestUri, toUri]) {
      const host = hostOf(uri);
      if (host && this.#deps.hasSite(host)) return host;
    }
    return undefined;
  }

  /**
   * Methods the host answers itself when the embedded engine hands them
   * over without the wire (SipEngine.serveHost): REGISTER, which the core's
   * registrar answers before any plugin could see it.
   */
  hostMethods(): string[] {
    return this.#deps.core ? ['REGISTER'] : [];
  }

  /** A request of one of hostMethods(), from the engine without the wire: the same core policy as through the Srf. */
  async serveHost(r: HostRequest, answer: (a: HostAnswer) => void): Promise<void> {
    const req = new HostSipRequest(r);
    const res = new HostSipResponse(r.id, answer);
    const core = this.#deps.core;
    try {
      if (!core) return void res.send(503);
      const site = this.#siteOf(req.uri, nameAddrUri(req.get('To')));
      if (!site) return core.foreign(req, res);
      if (!(await core.before(req, res, site)) && !res.finalResponseSent) res.send(500);
    } catch (err) {
      this.#fail(res, undefined, err, 500);
    }
  }

  #mount(srf: Srf, method: string): void {
    const middleware = (req: Srf.SrfRequest, res: Srf.SrfResponse, next: Function): void => {
      void this.#dispatch(method, req, res, next as Next);
    };
    srf.use(method.toLowerCase(), middleware);
  }

  async #dispatch(method: string, req: Srf.SrfRequest, res: Srf.SrfResponse, outerNext: Next): Promise<void> {
    const site = this.siteOf(req);
    const core = this.#deps.core;
    if (!site) {
      if (core) core.foreign(req, res);
      else res.send(404);
      return;
    }
    try {
      if (core && (await core.before(req, res, site))) return;
    } catch (err) {
      this.#fail(res, undefined, err, 500);
      return;
    }
    const chain: Array<{ pluginId: string; handler: SipHandler }> = [];
    const byPlugin = this.#handlers.get(method);
    for (const pluginId of this.#deps.order()) {
      if (!this.#deps.serves(site, pluginId)) continue;
      for (const handler of byPlugin?.get(pluginId) ?? []) chain.push({ pluginId, handler });
    }
    const request = req as SipRequest;
    request.locals = { ...(request.locals ?? {}), site };
    this.#watchActivity(request, res);
    let index = 0;
    const step: Next = (err) => {
      if (err) {
        this.#fail(res, chain[index - 1]?.pluginId, err, 500);
        return;
      }
      const link = chain[index++];
      if (!link) {
        if (core) void core.route(req, res, site).catch((e: unknown) => this.#fail(res, undefined, e, 500));
        else outerNext();
        return;
      }
      void this.#run(link.pluginId, link.handler, request, res, step);
    };
    step();
  }

  /**
   * Run one handler. A handler may answer after it returned (callbacks), so
   * the deadline only fires when, by then, no final response was sent,
   * next() was not called and the handler showed no sign of life (see #alive).
   */
  async #run(pluginId: string, handler: SipHandler, req: SipRequest, res: SipResponse, next: Next): Promise<void> {
    let passed = false;
    const timer = setTimeout(() => {
      if (passed || res.finalResponseSent || this.#alive.has(req)) return;
      this.#fail(res, pluginId, new Error(`SIP ${req.method} handler did not answer within ${this.#deps.handlerTimeoutMs} ms`), 503);
    }, this.#deps.handlerTimeoutMs);
    timer.unref();
    try {
      await handler(req, res, (err?: unknown) => {
        passed = true;
        clearTimeout(timer);
        next(err);
      });
      // Answered: nothing left to watch. A pending timer would hold the request and response until it fires.
      if (res.finalResponseSent) clearTimeout(timer);
    } catch (err) {
      clearTimeout(timer);
      this.#fail(res, pluginId, err, 500);
    }
  }

  /** Provisional responses and req.proxy() (srf.proxyRequest uses it too) on this request. */
  #watchActivity(req: SipRequest, res: SipResponse): void {
    const alive = this.#alive;
    const send = res.send;
    res.send = function (this: SipResponse, status: number, ...rest: unknown[]) {
      if (typeof status === 'number' && status < 200) alive.add(req);
      return (send as (...args: unknown[]) => unknown).call(this, status, ...rest);
    } as SipResponse['send'];
    // Request#proxy exists in drachtio-srf but not in its typings.
    const proxiable = req as unknown as { proxy?: (...args: unknown[]) => unknown };
    const proxy = proxiable.proxy;
    if (typeof proxy !== 'function') return;
    proxiable.proxy = function (this: unknown, ...args: unknown[]) {
      alive.add(req);
      return proxy.apply(this, args);
    };
  }

  /** createUAS/createB2BUA/proxyRequest on the Srf that requests carry as `req.srf`. */
  #watchTakeovers(srf: Srf): void {
    const alive = this.#alive;
    const methods = srf as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of TAKEOVER_METHODS) {
      const original = methods[name];
      if (typeof original !== 'function') continue;
      methods[name] = function (this: unknown, ...args: unknown[]) {
        if (typeof args[0] === 'object' && args[0] !== null) alive.add(args[0]);
        return original.apply(this, args);
      };
    }
  }

  #fail(res: SrfRes, pluginId: string | undefined, err: unknown, status: number): void {
    const reason = reasonOf(err);
    this.#deps.log.error({ err, plugin: pluginId }, 'SIP handler failed');
    if (pluginId) this.#deps.onFailure(pluginId, reason);
    if (!res.finalResponseSent) {
      try {
        res.send(status);
      } catch (sendErr) {
        this.#deps.log.warn({ err: sendErr }, 'could not answer a failed SIP request');
      }
    }
  }
}

function toUri(req: Srf.SrfRequest): string | undefined {
  try {
    return req.getParsedHeader('To')?.uri;
  } catch {
    return undefined;
  }
}

function nameAddrUri(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return parseNameAddr(value).uri;
  } catch {
    return undefined;
  }
}

function hostOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return Srf.parseUri(uri)?.host?.toLowerCase();
  } catch {
    return undefined;
  }
}
