/**
 * Sites as the admin API manages them. Sites named in the config are
 * recreated at every boot, so the API refuses to change or remove them;
 * sites added through the API live in the database only and are loaded
 * back at boot. The host keeps its in-memory SiteRegistry in step through
 * the hooks.
 */
import type { DataSource } from 'typeorm';
import type { SiteInfo } from '@switchboard/sdk';
import { coreError } from '../errors.ts';
import { SiteEntity, SitePluginEntity, type SiteRecord } from '../storage/entities.ts';
import { UserEntity } from './identity-entities.ts';
import type { WriteQueue } from './write-queue.ts';

export interface SiteView {
  domain: string;
  name?: string;
  theme?: string;
  /** True when the site comes from the config file (read-only here). */
  fromConfig: boolean;
  users: number;
  createdAt: string;
}

export interface SiteCatalogHooks {
  /** Domains named in the config. */
  configDomains(): ReadonlySet<string>;
  /** Plugin ids enabled for the site right now. */
  enabledPlugins(domain: string): string[];
  /** A site was stored (new or renamed); make it live. */
  added(site: SiteInfo): Promise<void>;
  /** A site was deleted; forget it. */
  removed(domain: string): void;
}

export class SiteCatalog {
  readonly #ds: DataSource;
  readonly #queue: WriteQueue;
  readonly #hooks: SiteCatalogHooks;

  constructor(ds: DataSource, queue: WriteQueue, hooks: SiteCatalogHooks) {
    this.#ds = ds;
    this.#queue = queue;
    this.#hooks = hooks;
  }

  /** Every stored site (config and API), for the registry at boot. */
  async stored(): Promise<SiteInfo[]> {
    const rows = await this.#ds.getRepository(SiteEntity).find({ order: { domain: 'ASC' } });
    return rows.map((r) => ({ domain: r.domain, ...(r.name ? { name: r.name } : {}) }));
  }

  async list(): Promise<SiteView[]> {
    const rows = await this.#ds.getRepository(SiteEntity).find({ order: { domain: 'ASC' } });
    const counts = await this.#ds.getRepository(UserEntity).createQueryBuilder('u')
      .select('u.siteId', 'siteId').addSelect('COUNT(*)', 'n').groupBy('u.siteId')
      .getRawMany<{ siteId: string; n: number | string }>();
    const bySite = new Map(counts.map((c) => [c.siteId, Number(c.n)]));
    return rows.map((r) => this.#view(r, bySite.get(r.id) ?? 0));
  }

  async get(domain: string): Promise<SiteView> {
    const row = await this.#require(domain.toLowerCase());
    return this.#view(row, await this.#ds.getRepository(UserEntity).countBy({ siteId: row.id }));
  }

  /** Throws CORE_ERR_SITE_EXISTS for a domain already stored. */
  async add(input: { domain: string; name?: string; theme?: string }): Promise<SiteView> {
    const domain = input.domain.toLowerCase();
    const row = await this.#queue.run(async () => {
      const repo = this.#ds.getRepository(SiteEntity);
      if (await repo.findOneBy({ domain })) throw coreError('CORE_ERR_SITE_EXISTS', domain);
      return repo.save({ domain, name: input.name ?? null, theme: input.theme ?? null });
    });
    await this.#hooks.added({ domain, ...(input.name ? { name: input.name } : {}) });
    return this.get(row.domain);
  }

  async update(domain: string, change: { name?: string | null; theme?: string | null }): Promise<SiteView> {
    const d = domain.toLowerCase();
    const row = await this.#queue.run(async () => {
      const current = await this.#require(d);
      this.#assertNotConfig(d);
      const next = { ...current, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.theme !== undefined ? { theme: change.theme } : {}) };
      await this.#ds.getRepository(SiteEntity).update({ id: current.id }, { name: next.name, theme: next.theme });
      return next;
    });
    await this.#hooks.added({ domain: d, ...(row.name ? { name: row.name } : {}) });
    return this.get(d);
  }

  /** Removes the site with its users and per-plugin settings; refuses while plugins are on for it. */
  async remove(domain: string): Promise<void> {
    const d = domain.toLowerCase();
    await this.#queue.run(async () => {
      const row = await this.#require(d);
      this.#assertNotConfig(d);
      const plugins = this.#hooks.enabledPlugins(d);
      if (plugins.length > 0) throw coreError('CORE_ERR_SITE_IN_USE', `${d}: ${plugins.join(', ')}`, { plugins });
      await this.#ds.transaction(async (m) => {
        // Explicit deletes rather than trusting ON DELETE CASCADE, which SQLite only honours with foreign_keys on.
        await m.query('DELETE FROM user_addresses WHERE site_id = ?', [row.id]);
        await m.getRepository(UserEntity).delete({ siteId: row.id });
        await m.getRepository(SitePluginEntity).delete({ siteId: row.id });
        await m.getRepository(SiteEntity).delete({ id: row.id });
      });
    });
    this.#hooks.removed(d);
  }

  async #require(domain: string): Promise<SiteRecord> {
    const row = await this.#ds.getRepository(SiteEntity).findOneBy({ domain });
    if (!row) throw coreError('CORE_ERR_SITE_NOT_FOUND', domain);
    return row;
  }

  #assertNotConfig(domain: string): void {
    if (this.#hooks.configDomains().has(domain)) throw coreError('CORE_ERR_SITE_IN_CONFIG', domain);
  }

  #view(row: SiteRecord, users: number): SiteView {
    return {
      domain: row.domain,
      ...(row.name ? { name: row.name } : {}),
      ...(row.theme ? { theme: row.theme } : {}),
      fromConfig: this.#hooks.configDomains().has(row.domain),
      users,
      createdAt: new Date(row.createdAt).toISOString(),
    };
  }
}
