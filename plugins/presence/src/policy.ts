/** The `presence.policy` service other plugins consume (IM, calls). */
import type { PresenceView } from './access.ts';
import type { PresenceCore } from './presence-core.ts';

export interface PresencePolicy {
  /**
   * May `from` interrupt `to` now? `from` is `user` (same site), `user@site`
   * or a SIP URI; `to` a username of `site`. False when `to` blocked `from`,
   * or is in Do Not Disturb and `from` is not in `to`'s Team.
   */
  mayInterrupt(site: string, from: string, to: string): boolean;
  /** What `watcher` (as `from` above; undefined for anonymous) may see of `username`. */
  presenceOf(site: string, username: string, watcher?: string): PresenceView;
}

export function createPolicy(core: PresenceCore): PresencePolicy {
  return {
    mayInterrupt: (site, from, to) => core.mayInterrupt(site, watcherKey(site, from), to.toLowerCase()),
    presenceOf: (site, username, watcher) => core.view(site, username.toLowerCase(), { key: watcher ? watcherKey(site, watcher) : undefined }),
  };
}

function watcherKey(site: string, from: string): string {
  const bare = from.replace(/^sips?:/i, '').replace(/[;>].*$/, '').toLowerCase();
  return bare.includes('@') ? bare : `${bare}@${site}`;
}
