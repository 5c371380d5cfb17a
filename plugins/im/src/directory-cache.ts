/**
 * A short-lived cache of directory answers on the message path. Every
 * MESSAGE needs its sender, its recipient and the sender's display name;
 * asking the database each time costs more than the relay itself at a
 * thousand messages a second. Only users found are kept, for TTL_MS, so a
 * new user is reachable at once and a disabled or renamed one at most
 * TTL_MS later. Concurrent lookups of the same key share one query.
 */
import type { DirectoryUser, PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';

export const TTL_MS = 2000;
const MAX_ENTRIES = 20_000;

interface Entry {
  at: number;
  user: Promise<DirectoryUser | undefined>;
}

export class DirectoryCache {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #entries = new Map<string, Entry>();

  constructor(ctx: PluginContext<ImConfig>) {
    this.#ctx = ctx;
  }

  findByAddress(site: string, userPart: string): Promise<DirectoryUser | undefined> {
    return this.#get(`a\u0000${site}\u0000${userPart}`, () => this.#ctx.directory.findByAddress(site, userPart));
  }

  findUser(site: string, username: string): Promise<DirectoryUser | undefined> {
    return this.#get(`u\u0000${site}\u0000${username}`, () => this.#ctx.directory.findUser(site, username));
  }

  #get(key: string, load: () => Promise<DirectoryUser | undefined>): Promise<DirectoryUser | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.user;
    const user = load();
    const entry: Entry = { at: now, user };
    this.#entries.set(key, entry);
    // Not found or failed: not kept, so the next lookup asks again.
    user.then((found) => { if (!found && this.#entries.get(key) === entry) this.#entries.delete(key); },
      () => { if (this.#entries.get(key) === entry) this.#entries.delete(key); });
    if (this.#entries.size > MAX_ENTRIES) {
      for (const [k, e] of this.#entries) {
        if (this.#entries.size <= MAX_ENTRIES / 2) break;
        if (now - e.at >= TTL_MS || this.#entries.size > MAX_ENTRIES) this.#entries.delete(k);
      }
    }
    return user;
  }
}

const caches = new WeakMap<object, DirectoryCache>();

/** The cache of this plugin context (one per host). */
export function directoryOf(ctx: PluginContext<ImConfig>): DirectoryCache {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new DirectoryCache(ctx)));
  return cache;
}
