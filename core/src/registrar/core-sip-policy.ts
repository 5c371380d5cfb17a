/**
 * The core's SIP policy around the plugins' handlers: known scanners are
 * screened, REGISTER goes to the registrar, out-of-dialog requests from
 * local users are challenged (407) per site policy, and what no plugin
 * answered is routed to the user's registered endpoints. Requests for
 * domains that are not ours are refused.
 */
import type { Logger } from 'pino';
import type { Registrar, CredentialSource } from './registrar.ts';
import { destinationOf, endpointOf, type Endpoint } from './location.ts';
import type { SrfReq, SrfRes } from './srf-types.ts';

export interface SitePolicy {
  /** Methods whose out-of-dialog requests from local users must carry credentials. */
  challengeMethods: string[];
}

export const DEFAULT_CHALLENGE_METHODS = ['INVITE', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH', 'REFER', 'OPTIONS', 'INFO', 'NOTIFY', 'UPDATE'];

// drachtio-srf's Srf, used for proxying; typed loosely because srf ships no usable types for it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySrf = any;

export interface CoreSipPolicyDeps {
  registrar: Registrar;
  directory: CredentialSource;
  isLocalSite(domain: string): boolean;
  policy(site: string): SitePolicy;
  srf(): AnySrf | undefined;
  log: Logger;
}

export class CoreSipPolicy {
  readonly #d: CoreSipPolicyDeps;

  constructor(deps: CoreSipPolicyDeps) {
    this.#d = deps;
  }

  /** A request whose Request-URI and To name no local site. */
  foreign(req: SrfReq, res: SrfRes): void {
    if (this.#d.registrar.screenScanner(req, res)) return;
    res.send(403, 'Forbidden - Not A Local Domain');
  }

  /** Before the plugins: true when the request was answered here. */
  async before(req: SrfReq, res: SrfRes, site: string): Promise<boolean> {
    if (this.#d.registrar.screenScanner(req, res)) return true;
    if (req.method === 'REGISTER') {
      await this.#d.registrar.register(req, res, site);
      return true;
    }
    const inDialog = /;\s*tag\s*=/i.test(req.get('To') ?? '');
    if (inDialog || req.method === 'ACK' || req.method === 'CANCEL') return false;
    const fromDomain = domainOf(req.get('From') ?? '');
    if (!fromDomain || !this.#d.isLocalSite(fromDomain)) return false;
    if (!this.#d.policy(fromDomain).challengeMethods.includes(req.method)) return false;
    const user = await this.#d.registrar.authenticate(req, res, fromDomain, true);
    if (!user) return true;
    req.locals = { ...(req.locals ?? {}), user };
    return false;
  }

  /** After the plugins passed (or for a plugin): route to the addressed user's endpoints. */
  async route(req: SrfReq, res: SrfRes, site: string, username?: string): Promise<void> {
    const userPart = username ?? /^sips?:([^@;>]+)@/i.exec(req.uri)?.[1];
    const user = userPart ? await this.#d.directory.findByAddress(site, decodeURIComponent(userPart)) : undefined;
    if (!user || user.enabled === false) {
      res.send(404, 'Not Found');
      return;
    }
    const bindings = this.#d.registrar.bindings.get(site, user.username);
    if (!bindings.length) {
      res.send(480, 'Temporarily Unavailable');
      return;
    }
    const srf = this.#d.srf();
    if (!srf) {
      res.send(503);
      return;
    }
    try {
      // Record-Route dialog-creating requests: in-dialog requests then come back through the engine,
      // which reaches a TCP/TLS/WebSocket or NATed client over its own flow (RFC 5626 §5.3 asks this of edge proxies).
      const recordRoute = req.method === 'INVITE' || req.method === 'SUBSCRIBE' || req.method === 'REFER';
      await srf.proxyRequest(req, bindings.map(destinationOf), { forking: 'simultaneous', recordRoute });
    } catch (err) {
      this.#d.log.warn({ err, uri: req.uri }, 'location routing failed');
      if (!res.finalResponseSent) res.send(500);
    }
  }

  endpoints(site: string, username: string): Endpoint[] {
    const now = Date.now();
    return this.#d.registrar.bindings.get(site, username, now).map((b) => endpointOf(b, now));
  }
}

function domainOf(nameAddr: string): string | undefined {
  const m = /sips?:(?:[^@;>]+@)?([^;>:]+|\[[^\]]+\])/i.exec(nameAddr);
  return m?.[1]?.toLowerCase();
}
