/**
 * The web client's live channel (`/api/live`, ctx.live).
 *
 * Pushed to browser sessions:
 * - `presence.changed` to everyone who watches a user: the user's own
 *   sessions, the owners of contact lists that hold the user, and sessions
 *   that asked with `presence.watch`. Each watcher gets the view its access
 *   level allows, exactly as NOTIFY bodies are filtered.
 * - `presence.alert` to the owner when a tagged contact's state changes.
 *
 * Messages the client sends: `presence.idle`, `presence.set`,
 * `presence.clear`, `presence.watch`, `presence.unwatch`, `presence.get`
 * (README "Live events" has the shapes).
 *
 * A signed-in browser is a device of its user (`web-idle`, automatic):
 * Available while a session is open unless idle reports or a manual state
 * say otherwise; when the user's last session closes, that device goes.
 */
import type { LiveClient } from '@switchboard/sdk';
import type { PresenceView } from './access.ts';
import type { Alert } from './alerts.ts';
import { normaliseAddress } from './contacts.ts';
import { ContactEntity } from './entities/tables.ts';
import { presenceError, PresenceError } from './errors.ts';
import { getManualState, setManualState, type ManualState } from './manual-state.ts';
import type { PresenceCore } from './presence-core.ts';
import { isState, type PresenceState } from './states.ts';

export const LIVE = {
  changed: 'presence.changed',
  alert: 'presence.alert',
  idle: 'presence.idle',
  set: 'presence.set',
  clear: 'presence.clear',
  watch: 'presence.watch',
  unwatch: 'presence.unwatch',
  get: 'presence.get',
} as const;

/** One entry of `presence.changed` and of watch/get replies. */
export interface LivePresence {
  /** `user@site` of the watched user. */
  contact: string;
  site: string;
  username: string;
  presence: PresenceView;
}

/** A coded error the live hub turns into `{ ok: false, error: { code, message } }` without counting a plugin failure. */
class LiveRefusal extends Error {
  readonly code: string;
  readonly statusCode = 400;

  constructor(err: PresenceError) {
    super(err.message);
    this.code = err.code;
  }
}

const MAX_WATCH_PER_MESSAGE = 500;

export class LivePresenceBridge {
  readonly #core: PresenceCore;
  /** watched `user@site` → watcher keys (`owner@site`) whose contact list holds it. */
  readonly #listedBy = new Map<string, Set<string>>();
  /** watched `user@site` → watcher keys that asked with presence.watch (until their last session closes). */
  readonly #watchedBy = new Map<string, Set<string>>();
  /** watcher key → what it asked to watch, to undo on sign-out. */
  readonly #watching = new Map<string, Set<string>>();

  constructor(core: PresenceCore) {
    this.#core = core;
  }

  async load(): Promise<void> {
    for (const row of await this.#core.ctx.db.repository(ContactEntity).findBy({ kind: 'user' })) {
      this.listed(`${row.owner}@${row.site}`, row.address, true);
    }
  }

  /** Keep the index of contact lists in step (add / remove of a user contact). */
  listed(ownerKey: string, address: string, inList: boolean): void {
    index(this.#listedBy, address, ownerKey, inList);
  }

  /** Register the client messages and the session device. */
  register(): void {
    const { ctx } = this.#core;
    const live = ctx.live;
    live.onPresence((client, online) => this.#sessions(client, online));
    live.on(LIVE.idle, (data, client) => this.#guard(() => {
      const idleSeconds = (data as { idleSeconds?: unknown } | null)?.idleSeconds;
      if (typeof idleSeconds !== 'number' || !Number.isInteger(idleSeconds) || idleSeconds < 0 || idleSeconds > 31_536_000) {
        throw presenceError('PRESENCE_ERR_BAD_INPUT', 'expected { idleSeconds: integer 0..31536000 }');
      }
      const automatic = this.#core.idle.report(client.site, client.username, idleSeconds);
      return { automatic, presence: this.#core.composed(client.site, client.username) };
    }));
    live.on(LIVE.set, (data, client) => this.#guard(async () => {
      const manual = parseManual(data);
      if (manual.custom) {
        const def = ctx.config(client.site).customStates.find((c) => c.id === manual.custom);
        if (!def) throw presenceError('PRESENCE_ERR_UNKNOWN_STATE', manual.custom);
        manual.state = def.base;
      }
      await setManualState(this.#core, client.site, client.username, manual);
      return { presence: this.#core.composed(client.site, client.username), manual: await getManualState(this.#core, client.site, client.username) ?? null };
    }));
    live.on(LIVE.clear, (_data, client) => this.#guard(async () => {
      await setManualState(this.#core, client.site, client.username, undefined);
      return { presence: this.#core.composed(client.site, client.username), manual: null };
    }));
    live.on(LIVE.watch, (data, client) => this.#guard(() => {
      const addresses = this.#addresses(data, client);
      const me = keyOf(client);
      const mine = this.#watching.get(me) ?? new Set<string>();
      const limit = ctx.config(client.site).maxContacts;
      if (new Set([...mine, ...addresses]).size > limit) throw presenceError('PRESENCE_ERR_LIMIT', `at most ${limit} watched users per user`);
      for (const address of addresses) {
        mine.add(address);
        index(this.#watchedBy, address, me, true);
      }
      this.#watching.set(me, mine);
      return { users: addresses.map((a) => this.#entry(a, me)).filter((e) => e !== undefined) };
    }));
    live.on(LIVE.unwatch, (data, client) => this.#guard(() => {
      const addresses = this.#addresses(data, client);
      const me = keyOf(client);
      const mine = this.#watching.get(me);
      for (const address of addresses) {
        mine?.delete(address);
        index(this.#watchedBy, address, me, false);
      }
      if (mine?.size === 0) this.#watching.delete(me);
      return { watching: [...(this.#watching.get(me) ?? [])] };
    }));
    live.on(LIVE.get, (data, client) => this.#guard(() => {
      const me = keyOf(client);
      return { users: this.#addresses(data, client).map((a) => this.#entry(a, me)).filter((e) => e !== undefined) };
    }));
  }

  /** A user's composed state changed: push the view each watcher with an open session may see. */
  changed(site: string, username: string): void {
    const live = this.#core.ctx.live;
    const address = `${username}@${site}`;
    const targets = new Set<string>([address]);
    for (const k of this.#listedBy.get(address) ?? []) targets.add(k);
    for (const k of this.#watchedBy.get(address) ?? []) targets.add(k);
    for (const watcher of targets) {
      const at = watcher.lastIndexOf('@');
      const wSite = watcher.slice(at + 1);
      const wUser = watcher.slice(0, at);
      if (live.sessionCount(wSite, wUser) === 0) continue;
      const data: LivePresence = { contact: address, site, username, presence: this.#core.view(site, username, { key: watcher }) };
      live.toUser(wSite, wUser, LIVE.changed, data);
    }
  }

  /** A tagged contact's state changed for its owner. */
  alert(ownerKey: string, alert: Alert): void {
    const at = ownerKey.lastIndexOf('@');
    this.#core.ctx.live.toUser(ownerKey.slice(at + 1), ownerKey.slice(0, at), LIVE.alert, alert);
  }

  /** First session opened: the web device is Available; last one closed: it goes (and so do its watches). */
  #sessions(client: LiveClient, online: boolean): void {
    const { site, username } = client;
    if (online) {
      this.#core.idle.signedIn(site, username);
      return;
    }
    this.#core.idle.clear(site, username);
    const me = keyOf(client);
    for (const address of this.#watching.get(me) ?? []) index(this.#watchedBy, address, me, false);
    this.#watching.delete(me);
  }

  #entry(address: string, watcherKey: string): LivePresence | undefined {
    const at = address.lastIndexOf('@');
    const site = address.slice(at + 1);
    const username = address.slice(0, at);
    const { ctx } = this.#core;
    if (!ctx.sites.list().some((s) => s.domain === site) || !ctx.sites.isEnabled(site)) return undefined;
    return { contact: address, site, username, presence: this.#core.view(site, username, { key: watcherKey }) };
  }

  /** `{ users: [...] }` → normalised `user@site` addresses (phone numbers have no presence and are refused). */
  #addresses(data: unknown, client: LiveClient): string[] {
    const users = (data as { users?: unknown } | null)?.users;
    if (!Array.isArray(users) || users.length === 0 || users.length > MAX_WATCH_PER_MESSAGE || !users.every((u) => typeof u === 'string' && u.length > 0 && u.length <= 255)) {
      throw presenceError('PRESENCE_ERR_BAD_INPUT', `expected { users: [1..${MAX_WATCH_PER_MESSAGE} addresses like "bob" or "bob@site"] }`);
    }
    return [...new Set((users as string[]).map((u) => {
      const n = normaliseAddress(client.site, u);
      if (n.kind !== 'user') throw presenceError('PRESENCE_ERR_BAD_INPUT', `${u} is a phone number; it has no presence`);
      return n.address;
    }))];
  }

  async #guard<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PresenceError) throw new LiveRefusal(err);
      throw err;
    }
  }
}

function parseManual(data: unknown): ManualState {
  const d = data as Record<string, unknown> | null;
  const fail = (why: string) => presenceError('PRESENCE_ERR_BAD_INPUT', `${why}; expected { state, custom?, note? (≤1024), location? (≤256) }`);
  if (!d || typeof d !== 'object') throw fail('no data');
  for (const k of Object.keys(d)) if (!['state', 'custom', 'note', 'location'].includes(k)) throw fail(`unknown field ${k}`);
  if (!isState(d.state)) throw presenceError('PRESENCE_ERR_UNKNOWN_STATE', String(d.state));
  if (d.custom !== undefined && (typeof d.custom !== 'string' || !/^[a-z][a-z0-9-]{0,39}$/.test(d.custom))) throw fail('bad custom');
  if (d.note !== undefined && (typeof d.note !== 'string' || d.note.length > 1024)) throw fail('bad note');
  if (d.location !== undefined && (typeof d.location !== 'string' || d.location.length > 256)) throw fail('bad location');
  return {
    state: d.state as PresenceState,
    ...(d.custom ? { custom: d.custom as string } : {}),
    ...(d.note ? { note: d.note as string } : {}),
    ...(d.location ? { location: d.location as string } : {}),
  };
}

function keyOf(client: LiveClient): string {
  return `${client.username}@${client.site}`;
}

function index(map: Map<string, Set<string>>, address: string, watcher: string, on: boolean): void {
  let set = map.get(address);
  if (on) {
    if (!set) map.set(address, (set = new Set()));
    set.add(watcher);
    return;
  }
  set?.delete(watcher);
  if (set?.size === 0) map.delete(address);
}
