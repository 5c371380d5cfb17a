/**
 * Access levels granted by users to watchers, cached in memory (every
 * NOTIFY needs one) and written through to presence_access.
 */
import type { PluginContext } from '@switchboard/sdk';
import { isLevel, type AccessLevel } from './access.ts';
import type { PresenceConfig } from './config.ts';
import { AccessEntity } from './entities/tables.ts';

/** Who is looking: a user of a site on this host, or an outsider. */
export interface Watcher {
  /** `user@site` lowercase; undefined for anonymous HTTP callers. */
  key?: string;
}

export class AccessStore {
  readonly #ctx: PluginContext<PresenceConfig>;
  /** `site\0owner` → watcher key → level. */
  readonly #levels = new Map<string, Map<string, AccessLevel>>();

  constructor(ctx: PluginContext<PresenceConfig>) {
    this.#ctx = ctx;
  }

  async load(): Promise<void> {
    const rows = await this.#ctx.db.repository(AccessEntity).find();
    for (const row of rows) if (isLevel(row.level)) this.#map(row.site, row.owner).set(row.watcher, row.level);
  }

  /** What `owner` of `site` lets `watcher` see. */
  levelFor(site: string, owner: string, watcher: Watcher): AccessLevel {
    if (!watcher.key) return 'public';
    if (watcher.key === `${owner}@${site}`) return 'personal';
    const granted = this.#levels.get(`${site}\u0000${owner}`)?.get(watcher.key);
    if (granted) return granted;
    return watcher.key.endsWith(`@${site}`) ? this.#ctx.config(site).defaultLevel : 'public';
  }

  /** Explicit grants of an owner. */
  grants(site: string, owner: string): Array<{ watcher: string; level: AccessLevel }> {
    return [...(this.#levels.get(`${site}\u0000${owner}`) ?? new Map<string, AccessLevel>())]
      .map(([watcher, level]) => ({ watcher, level }))
      .sort((a, b) => a.watcher.localeCompare(b.watcher));
  }

  /** Grant `level`, or remove the grant (back to the default) when undefined. */
  async set(site: string, owner: string, watcherKey: string, level: AccessLevel | undefined): Promise<void> {
    const repo = this.#ctx.db.repository(AccessEntity);
    const existing = await repo.findOneBy({ site, owner, watcher: watcherKey });
    if (level === undefined) {
      if (existing) await repo.delete({ id: existing.id });
      this.#map(site, owner).delete(watcherKey);
      return;
    }
    await repo.save({ ...(existing ?? {}), site, owner, watcher: watcherKey, level });
    this.#map(site, owner).set(watcherKey, level);
  }

  #map(site: string, owner: string): Map<string, AccessLevel> {
    const k = `${site}\u0000${owner}`;
    let m = this.#levels.get(k);
    if (!m) {
      m = new Map();
      this.#levels.set(k, m);
    }
    return m;
  }
}
