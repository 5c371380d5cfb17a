/**
 * Everything identity needs, built once by the host: the directory (read),
 * accounts (write), the site catalog, and sign-in with its lockouts. Sites
 * added through the API are loaded back into the host's registry here, so
 * this runs before per-site plugin settings are loaded.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { SiteInfo } from '@switchboard/sdk';
import type { SwitchboardConfig } from '../config/index.ts';
import { SiteCatalog } from './site-catalog.ts';
import { SignInService, type LockoutEvent } from './sign-in.ts';
import { UserAccounts } from './user-accounts.ts';
import { UserDirectory } from './user-directory.ts';
import { WriteQueue } from './write-queue.ts';

/** Topic of the event published when an account or address gets locked. */
export const LOCKOUT_TOPIC = 'security.lockout';

export interface IdentityDeps {
  dataSource: DataSource;
  config: SwitchboardConfig;
  /** The host's live site list. */
  registry: { add(site: SiteInfo): void; remove(domain: string): void; get(domain: string): SiteInfo | undefined };
  /** Store sites in the host's storage bridge (so per-site plugin settings can be saved for them). */
  upsertSites(sites: SiteInfo[]): Promise<void>;
  enabledPlugins(domain: string): string[];
  /** Publish on the host's event bus as the core. */
  publish(topic: string, payload: unknown): Promise<void>;
  log: Logger;
}

export class Identity {
  readonly directory: UserDirectory;
  readonly accounts: UserAccounts;
  readonly sites: SiteCatalog;
  readonly signIn: SignInService;
  readonly dataSource: DataSource;

  private constructor(deps: IdentityDeps) {
    this.dataSource = deps.dataSource;
    this.directory = new UserDirectory({ dataSource: deps.dataSource });
    // Every user or site write empties the directory's lookup cache, before and after.
    const queue = new WriteQueue(() => this.directory.changed());
    const configDomains = new Set(deps.config.sites.map((s) => s.domain.toLowerCase()));
    this.accounts = new UserAccounts(deps.dataSource, queue);
    this.sites = new SiteCatalog(deps.dataSource, queue, {
      configDomains: () => configDomains,
      enabledPlugins: (domain) => deps.enabledPlugins(domain),
      added: async (site) => {
        await deps.upsertSites([site]);
        deps.registry.add(site);
      },
      removed: (domain) => deps.registry.remove(domain),
    });
    const limits = deps.config.security.signIn;
    const log = deps.log.child({ component: 'identity' });
    this.signIn = new SignInService({
      directory: this.directory,
      dataSource: deps.dataSource,
      limits: {
        account: { maxFailures: limits.maxFailures, windowMs: limits.windowSeconds * 1000, lockoutMs: limits.lockoutSeconds * 1000 },
        address: { maxFailures: limits.maxFailuresPerAddress, windowMs: limits.windowSeconds * 1000, lockoutMs: limits.lockoutSeconds * 1000 },
      },
      onLockout: (event: LockoutEvent) => {
        log.warn({ ...event, code: event.scope === 'account' ? 'CORE_ERR_SIGNIN_LOCKED' : 'CORE_ERR_SIGNIN_THROTTLED' }, 'sign-in lockout');
        deps.publish(LOCKOUT_TOPIC, event).catch((err: unknown) => log.error({ err }, 'could not publish the lockout event'));
      },
    });
  }

  /** Build the services and put the sites stored by the API (not in the config) into the registry. */
  static async open(deps: IdentityDeps): Promise<Identity> {
    const identity = new Identity(deps);
    const extra = (await identity.sites.stored()).filter((s) => !deps.registry.get(s.domain));
    if (extra.length > 0) {
      await deps.upsertSites(extra);
      for (const site of extra) deps.registry.add(site);
    }
    return identity;
  }
}
