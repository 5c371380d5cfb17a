/**
 * What the host needs from storage, in one narrow interface over
 * core/src/storage: site upserts, per-site plugin settings keyed by domain
 * (storage keys them by site id), installation state and plugin migrations.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { SiteInfo } from '@switchboard/sdk';
// The files, not storage/index.ts: the index also exports the test helpers, which load mysql2 on every start.
import { openStorage, type Storage } from '../storage/open-storage.ts';
import { loadPluginMigrations } from '../storage/plugin-migrations.ts';
import { pluginCodePath } from '../build/plugin-code.ts';
import type { StorageKind } from '../storage/storage-url.ts';
import { HOST_ENTITIES, ensureHostTables } from './core-tables.ts';
import type { PluginRuntime, PluginState } from './plugin-runtime.ts';
import type { SitePluginStore } from './site-registry.ts';

export interface HostStorage {
  readonly dataSource: DataSource;
  readonly kind: StorageKind;
  upsertSites(sites: SiteInfo[]): Promise<void>;
  readonly sitePlugins: SitePluginStore;
  saveInstallation(id: string, version: string, state: PluginState, error?: string): Promise<void>;
  /** Insert rows in one transaction, off the main thread on a SQLite file (Storage#insertRows). */
  insertRows(sql: string, rows: unknown[][]): Promise<number[]>;
  /** Run the plugin's pending migrations; all-or-nothing, throws CORE_ERR_MIGRATION_FAILED. */
  installMigrations(plugin: PluginRuntime): Promise<void>;
  close(): Promise<void>;
}

export interface HostStorageOptions {
  /** Typeorm's log (queries at debug). */
  log?: Logger;
  /** Told when the row writer thread is lost. */
  onRowWriterLost?: (reason: string) => void;
  /** storage.sqliteCacheKiB. */
  sqliteCacheKiB?: number;
}

export async function openHostStorage(url: string, options: HostStorageOptions = {}): Promise<HostStorage> {
  const { log, onRowWriterLost, sqliteCacheKiB } = options;
  const storage = await openStorage(url, {
    entities: HOST_ENTITIES, ...(log ? { logger: log } : {}), ...(onRowWriterLost ? { onRowWriterLost } : {}), ...(sqliteCacheKiB !== undefined ? { sqliteCacheKiB } : {}),
  });
  try {
    await ensureHostTables(storage.dataSource);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return new StorageBridge(storage);
}

class StorageBridge implements HostStorage {
  readonly #storage: Storage;
  /** domain → site id, filled by upsertSites. */
  readonly #siteIds = new Map<string, string>();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  get dataSource(): DataSource {
    return this.#storage.dataSource;
  }

  get kind(): StorageKind {
    return this.#storage.kind;
  }

  insertRows(sql: string, rows: unknown[][]): Promise<number[]> {
    return this.#storage.insertRows(sql, rows);
  }

  async upsertSites(sites: SiteInfo[]): Promise<void> {
    const repo = this.#storage.sites;
    for (const site of sites) {
      let row = await repo.findOneBy({ domain: site.domain });
      if (!row) row = await repo.save({ domain: site.domain, name: site.name ?? null, theme: null });
      else if ((row.name ?? undefined) !== site.name) await repo.update({ id: row.id }, { name: site.name ?? null });
      this.#siteIds.set(site.domain, row.id);
    }
  }

  readonly sitePlugins: SitePluginStore = {
    loadAll: async () => {
      const domains = new Map([...this.#siteIds].map(([domain, id]) => [id, domain]));
      const rows = await this.#storage.sitePlugins.find();
      return rows
        .filter((r) => domains.has(r.siteId))
        .map((r) => ({ site: domains.get(r.siteId)!, pluginId: r.pluginId, enabled: Boolean(r.enabled), config: r.config ?? {} }));
    },
    save: async (site, pluginId, setting, changedBy) => {
      const siteId = this.#siteIds.get(site);
      if (!siteId) throw new Error(`site ${site} was not stored at boot`);
      await this.#storage.sitePlugins.save({ siteId, pluginId, enabled: setting.enabled, config: setting.config, updatedBy: changedBy });
    },
  };

  async saveInstallation(id: string, version: string, state: PluginState, error?: string): Promise<void> {
    // Storage records install state; "ready" (set up) is a runtime fact and persists as installed.
    await this.#storage.pluginInstallations.save({
      pluginId: id,
      version,
      state: state === 'failed' ? 'failed' : 'installed',
      error: state === 'failed' ? (error ?? 'failed') : null,
    });
  }

  async installMigrations(plugin: PluginRuntime): Promise<void> {
    const migrations = await loadPluginMigrations(await pluginCodePath(plugin.dir, plugin.manifest.migrations ?? 'src/migrations'));
    await this.#storage.runPluginMigrations(plugin.id, plugin.version, migrations);
  }

  close(): Promise<void> {
    return this.#storage.close();
  }
}
