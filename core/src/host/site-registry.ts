/**
 * Which plugin is on for which site, with its config, held in memory so
 * every SIP and HTTP request can check it without a query. Writes go to the
 * database first, then memory: a change is live for the next request.
 */
import type { SiteInfo } from '@switchboard/sdk';
import { coreError } from '../errors.ts';

export interface SitePluginSetting {
  enabled: boolean;
  config: Record<string, unknown>;
}

/** Persistence of the per-site settings (implemented over storage). */
export interface SitePluginStore {
  loadAll(): Promise<Array<{ site: string; pluginId: string } & SitePluginSetting>>;
  save(site: string, pluginId: string, setting: SitePluginSetting, changedBy: string): Promise<void>;
}

export class SiteRegistry {
  readonly #sites = new Map<string, SiteInfo>();
  readonly #settings = new Map<string, Map<string, SitePluginSetting>>();
  /** site → plugin → why its enable/disable hook failed there; the plugin does not serve that site meanwhile. */
  readonly #failures = new Map<string, Map<string, string>>();
  /** Applies schema defaults to a stored config; set by the host. */
  #configFor: (pluginId: string, stored: Record<string, unknown>) => Record<string, unknown> = (_, s) => s;

  constructor(sites: SiteInfo[]) {
    for (const site of sites) {
      this.#sites.set(site.domain.toLowerCase(), site);
      this.#settings.set(site.domain.toLowerCase(), new Map());
    }
  }

  setConfigResolver(resolver: (pluginId: string, stored: Record<string, unknown>) => Record<string, unknown>): void {
    this.#configFor = resolver;
  }

  /** Add or rename a site at runtime (admin API); its plugin settings are kept. */
  add(site: SiteInfo): void {
    const domain = site.domain.toLowerCase();
    this.#sites.set(domain, { ...site, domain });
    if (!this.#settings.has(domain)) this.#settings.set(domain, new Map());
  }

  /** Forget a deleted site and its plugin settings. */
  remove(domain: string): void {
    this.#sites.delete(domain.toLowerCase());
    this.#settings.delete(domain.toLowerCase());
    this.#failures.delete(domain.toLowerCase());
  }

  list(): SiteInfo[] {
    return [...this.#sites.values()];
  }

  get(domain: string): SiteInfo | undefined {
    return this.#sites.get(domain.toLowerCase());
  }

  require(domain: string): SiteInfo {
    const site = this.get(domain);
    if (!site) throw coreError('CORE_ERR_SITE_NOT_FOUND', domain);
    return site;
  }

  load(rows: Array<{ site: string; pluginId: string } & SitePluginSetting>): void {
    for (const row of rows) this.#settings.get(row.site.toLowerCase())?.set(row.pluginId, { enabled: row.enabled, config: row.config });
  }

  setting(domain: string, pluginId: string): SitePluginSetting | undefined {
    return this.#settings.get(domain.toLowerCase())?.get(pluginId);
  }

  set(domain: string, pluginId: string, setting: SitePluginSetting): void {
    this.#settings.get(domain.toLowerCase())?.set(pluginId, setting);
  }

  /** Switched on for the site and not failed there: the plugin serves the site's requests. */
  isEnabled(domain: string, pluginId: string): boolean {
    return this.setting(domain, pluginId)?.enabled === true && !this.failure(domain, pluginId);
  }

  /** Why the plugin failed for this site (its enable or disable hook threw), if it did. */
  failure(domain: string, pluginId: string): string | undefined {
    return this.#failures.get(domain.toLowerCase())?.get(pluginId);
  }

  /** The plugin failed for this one site; other sites are not affected. */
  markFailed(domain: string, pluginId: string, reason: string): void {
    const key = domain.toLowerCase();
    let bySite = this.#failures.get(key);
    if (!bySite) this.#failures.set(key, (bySite = new Map()));
    bySite.set(pluginId, reason);
  }

  clearFailure(domain: string, pluginId: string): void {
    this.#failures.get(domain.toLowerCase())?.delete(pluginId);
  }

  /** The site's config with schema defaults applied. */
  configOf(domain: string, pluginId: string): Record<string, unknown> {
    this.require(domain);
    return this.#configFor(pluginId, this.setting(domain, pluginId)?.config ?? {});
  }
}
