/**
 * The plugin's state in one place: publications, access levels and
 * subscriptions, and the two questions everything asks: "what is this
 * user's state?" and "what may this watcher see of it?".
 */
import type { PluginContext } from '@switchboard/sdk';
import { filterPresence, mayInterrupt, type PresenceView } from './access.ts';
import { AccessStore, type Watcher } from './access-store.ts';
import { compose, sameComposed, type ComposedPresence } from './compose.ts';
import { buildPidf } from './pidf/build.ts';
import type { PresenceConfig } from './config.ts';
import { CHANGED_TOPIC } from './activity.ts';
import { TagAlerts } from './alerts.ts';
import { IdleTracker } from './idle.ts';
import { LivePresenceBridge } from './live.ts';
import { PublicationStore } from './publications.ts';
import { SubscriptionJournal } from './sip/journal.ts';
import type { RestartOutcome } from './sip/restart.ts';
import { SubscriptionManager, type ListEntry } from './sip/subscriptions.ts';
import { ContactEntity } from './entities/tables.ts';
import { PresenceDirectory } from './directory-cache.ts';

export class PresenceCore {
  readonly ctx: PluginContext<PresenceConfig>;
  readonly access: AccessStore;
  readonly publications: PublicationStore;
  readonly subscriptions: SubscriptionManager;
  readonly idle: IdleTracker;
  readonly alerts: TagAlerts;
  readonly live: LivePresenceBridge;
  readonly journal: SubscriptionJournal;
  /** Directory lookups of the SIP handlers, held briefly (directory-cache.ts). */
  readonly directory: PresenceDirectory;
  /** Set when the host stops. */
  closed = false;
  /** Ending the last run's subscriptions (after a restart), for diagnostics and tests. */
  restarted?: Promise<RestartOutcome>;
  /** Composed state per `site\0user` until its publications change. */
  readonly #composed = new Map<string, ComposedPresence>();
  /** PIDF bodies per `site\0user` and access level until its publications change. */
  readonly #pidf = new Map<string, Map<string, string>>();
  /** Last composed state per `site\0user`, to notify only on real changes. */
  readonly #last = new Map<string, ComposedPresence>();

  constructor(ctx: PluginContext<PresenceConfig>) {
    this.ctx = ctx;
    this.access = new AccessStore(ctx);
    this.directory = new PresenceDirectory(ctx);
    this.journal = new SubscriptionJournal(ctx.db, ctx.log);
    this.publications = new PublicationStore((site, username) => this.#changed(site, username));
    this.subscriptions = new SubscriptionManager({
      view: (site, presentity, watcher) => this.view(site, presentity, watcher),
      pidf: (site, presentity, watcher) => this.pidf(site, presentity, watcher),
      notify: (dialogId, request) => ctx.sip.requestInDialog(dialogId, request),
      log: ctx.log,
      journal: this.journal,
    });
    this.idle = new IdleTracker(this);
    this.alerts = new TagAlerts(this);
    this.live = new LivePresenceBridge(this);
  }

  /**
   * The composed state, cached until the user's publications change: a fan-out to
   * thousands of watchers composes once, not once per NOTIFY.
   */
  composed(site: string, username: string): ComposedPresence {
    const k = `${site}\u0000${username}`;
    let c = this.#composed.get(k);
    if (!c) {
      c = compose(this.publications.list(site, username));
      this.#composed.set(k, c);
    }
    return c;
  }

  /** The PIDF document this watcher may see; one document per access level and state, shared by every NOTIFY of a fan-out. */
  pidf(site: string, owner: string, watcher: Watcher): string {
    const k = `${site}\u0000${owner}`;
    const level = this.access.levelFor(site, owner, watcher);
    let bodies = this.#pidf.get(k);
    if (!bodies) this.#pidf.set(k, (bodies = new Map()));
    let body = bodies.get(level);
    if (body === undefined) {
      body = buildPidf(`sip:${owner}@${site}`, filterPresence(this.composed(site, owner), level));
      bodies.set(level, body);
    }
    return body;
  }

  view(site: string, owner: string, watcher: Watcher): PresenceView {
    return filterPresence(this.composed(site, owner), this.access.levelFor(site, owner, watcher));
  }

  /** May `from` (`user@site`) interrupt `to` (a user of `site`) now? */
  mayInterrupt(site: string, fromKey: string | undefined, to: string): boolean {
    return mayInterrupt(this.composed(site, to).state, this.access.levelFor(site, to, { key: fromKey }));
  }

  /** Watchers see a change when it happened; NOTIFYs only for real changes. */
  #changed(site: string, username: string): void {
    const k = `${site}\u0000${username}`;
    this.#composed.delete(k);
    this.#pidf.delete(k);
    const now = this.composed(site, username);
    const before = this.#last.get(k);
    if (before && sameComposed(before, now)) return;
    if (now.source === 'none') this.#last.delete(k);
    else this.#last.set(k, now);
    this.subscriptions.notifyPresentity(site, username);
    this.alerts.changed(site, username);
    this.live.changed(site, username);
    // Only the state: consumers are other plugins, and the details stay behind the access levels.
    this.ctx.events.publish(CHANGED_TOPIC, { site, username, state: now.state }).catch((err: unknown) =>
      this.ctx.log.warn({ err }, 'could not publish presence.changed'));
  }

  /** The entries of a user's contact list as a resource list (RFC 4662): people, in list order. */
  async listEntries(site: string, owner: string): Promise<ListEntry[]> {
    const rows = await this.ctx.db.repository(ContactEntity).find({ where: { site, owner, kind: 'user' }, order: { position: 'ASC', displayName: 'ASC', address: 'ASC' } });
    const sites = new Set(this.ctx.sites.list().map((s) => s.domain));
    return rows.map((r) => ({
      address: r.address,
      ...(r.displayName ? { name: r.displayName } : {}),
      instance: `c${r.id}`,
      local: sites.has(r.address.slice(r.address.lastIndexOf('@') + 1)),
    }));
  }

  /** A user's contact list changed: resource list subscriptions to it get the new list in full. */
  async listChanged(site: string, owner: string): Promise<void> {
    const subs = this.subscriptions.listsOf(site, owner);
    if (subs.length === 0) return;
    const entries = await this.listEntries(site, owner);
    for (const sub of subs) this.subscriptions.replaceList(sub, entries);
  }

  /** An access level changed: the watcher's view may differ now. */
  accessChanged(site: string, owner: string): void {
    this.subscriptions.notifyPresentity(site, owner);
    this.live.changed(site, owner);
  }
}

/** RFC 6665 expiry: default when absent, 423 below the minimum (except 0), capped at the maximum. */
export function grantExpires(config: PresenceConfig, requested: number | undefined): number | undefined {
  if (requested === undefined) return config.defaultExpires;
  if (requested === 0) return 0;
  if (requested < config.minExpires) return undefined;
  return Math.min(requested, config.maxExpires);
}
