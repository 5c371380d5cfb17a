/**
 * The core's own SIP services, assembled from config: the registrar and
 * authenticator, the policy stage the router runs around plugin handlers,
 * and the location lookups plugins reach through `ctx.sip`.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/index.ts';
import { Registrar, CoreSipPolicy, type CredentialSource, type Endpoint } from '../registrar/index.ts';

export interface SipCoreDeps {
  ds: DataSource;
  config: SwitchboardConfig;
  directory: CredentialSource;
  isLocalSite(domain: string): boolean;
  siteChallengeMethods(domain: string): string[] | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  srf(): any;
  publish(topic: string, payload: Record<string, unknown>): void;
  log: Logger;
}

export class SipCore {
  readonly registrar: Registrar;
  readonly policy: CoreSipPolicy;

  constructor(d: SipCoreDeps) {
    const sip = d.config.sip;
    this.registrar = new Registrar(d.ds, d.directory, {
      minExpires: sip.registrar.minExpires,
      maxExpires: sip.registrar.maxExpires,
      defaultExpires: sip.registrar.defaultExpires,
      maxBindingsPerUser: sip.registrar.maxBindingsPerUser,
      nonceTtlMs: sip.registrar.nonceTtlSeconds * 1000,
      algorithms: sip.registrar.algorithms,
      limits: { maxFailures: sip.security.maxFailures, windowMs: sip.security.windowSeconds * 1000, lockoutMs: sip.security.lockoutSeconds * 1000 },
      scannerUserAgents: sip.security.scannerUserAgents,
      scannerAction: sip.security.scannerAction,
      onEvent: (topic, payload) => d.publish(topic, payload),
    }, d.log.child({ component: 'registrar' }));
    this.policy = new CoreSipPolicy({
      registrar: this.registrar,
      directory: d.directory,
      isLocalSite: d.isLocalSite,
      policy: (site) => ({ challengeMethods: d.siteChallengeMethods(site) ?? sip.auth.challengeMethods }),
      srf: d.srf,
      log: d.log.child({ component: 'sip-policy' }),
    });
  }

  start(): Promise<void> {
    return this.registrar.start();
  }

  stop(): Promise<void> {
    return this.registrar.stop();
  }

  endpoints(site: string, username: string): Endpoint[] {
    return this.policy.endpoints(site, username);
  }
}
