/**
 * Presence subscriptions (RFC 6665 / RFC 3856) as compact records of our own.
 *
 * The SIP stack (the embedded engine, or drachtio-server) keeps the dialog:
 * Call-ID, tags, route set, remote target (refreshed by in-dialog SUBSCRIBEs)
 * and our CSeq. A subscription here is only what the notifier needs on top:
 * the stack's dialog id, who watches whom, the event, the expiry and a few
 * flags. NOTIFYs go out as in-dialog requests on that dialog id
 * (`srf.request` with `stackDialogId`, the same wire message a drachtio-srf
 * Dialog sends), so From/To/Call-ID/CSeq/Route/Request-URI are the stack's,
 * and in-dialog SUBSCRIBEs (refresh, unsubscribe) reach the plugin's handler
 * with that dialog id (see subscribe-handler.ts). A drachtio-srf Dialog
 * would keep the parsed SUBSCRIBE, its response and an event emitter for the
 * dialog's life; this keeps about a dozen fields.
 *
 * NOTIFYs are sent one at a time per dialog. A change while a NOTIFY is in
 * flight queues one more NOTIFY, which renders the state at the moment it is
 * sent, so bursts of changes coalesce instead of piling up. Expiry is one
 * timer for all subscriptions (one-second buckets), not one per subscription.
 */
import type { Logger } from 'pino';
import type { PresenceView } from '../access.ts';
import type { Watcher } from '../access-store.ts';
import { buildPidf } from '../pidf/build.ts';
import { PIDF_CONTENT_TYPE } from '../pidf/namespaces.ts';
import { buildListNotify, type ListResource } from '../pidf/rlmi.ts';
import { buildWatcherInfo, WINFO_CONTENT_TYPE } from '../pidf/watcherinfo.ts';
import type { DialogRecord, SubscriptionJournal } from './journal.ts';

/** A request in a subscription's dialog, resolved with its final status (ctx.sip.requestInDialog). */
export type NotifySend = (stackDialogId: string, request: { method: string; headers: Record<string, string>; body?: string }) => Promise<number>;

export type SubscriptionKind = 'presence' | 'winfo' | 'list';

/** What a handler knows when it accepts a SUBSCRIBE. */
export interface SubscriptionInit {
  site: string;
  /** The watched user (for `list`: the list's owner). */
  presentity: string;
  /** The watcher's key (`user@site`), when known. */
  key: string | undefined;
  /** Counted against the per-user limit: the watcher key, else its From URI. */
  owner: string;
  /** The Event header as the subscriber sent it (with any id parameter). */
  event: string;
  /** The SIP stack's dialog id (drachtio `stackDialogId`). */
  dialogId: string;
  kind: SubscriptionKind;
  /** Resource list state (kind `list`). */
  list?: ResourceListState;
}

const QUEUED = 1;
const SENDING = 2;
const ENDED = 4;
const JOURNALED = 8;

/**
 * One subscription. It is its own Watcher (`key`), so access levels are looked up
 * with it directly.
 */
export class Subscription implements Watcher {
  readonly site: string;
  readonly presentity: string;
  readonly key: string | undefined;
  readonly owner: string;
  readonly event: string;
  readonly dialogId: string;
  /**
   * `presence` watches the presentity; `winfo` watches who watches it (RFC 3857);
   * `list` watches the presentity's contact list (RFC 4662, see `list`).
   */
  readonly kind: SubscriptionKind;
  /** When it expires, seconds since the epoch (a small integer, kept unboxed). */
  expiresAt = 0;
  /** Watcher-info document version (RFC 3858 §4.1); resource list RLMI version lives in `list`. */
  winfoVersion = 0;
  #flags = 0;
  readonly list: ResourceListState | undefined;

  constructor(init: SubscriptionInit) {
    this.site = init.site;
    this.presentity = init.presentity;
    this.key = init.key;
    this.owner = init.owner;
    this.event = init.event;
    this.dialogId = init.dialogId;
    this.kind = init.kind;
    this.list = init.list;
  }

  /** The watcher's URI as shown in watcher information. */
  get uri(): string {
    return this.key ? `sip:${this.key}` : this.owner;
  }

  get ended(): boolean {
    return (this.#flags & ENDED) !== 0;
  }

  /** @internal flag access for the manager. */
  has(flag: number): boolean {
    return (this.#flags & flag) !== 0;
  }

  /** @internal */
  set(flag: number, on: boolean): void {
    this.#flags = on ? this.#flags | flag : this.#flags & ~flag;
  }
}

/** One entry of a resource list subscription. */
export interface ListEntry {
  /** `bob@site`. */
  address: string;
  name?: string;
  /** Stable RLMI instance id within the subscription. */
  instance: string;
  /** A user of a site this host serves (watched); others are listed as terminated (noresource). */
  local: boolean;
}

export interface ResourceListState {
  /** The list URI (`sip:alice-contacts@site`). */
  readonly uri: string;
  readonly name: string;
  entries: ListEntry[];
  /** RLMI version of the next NOTIFY (RFC 4662 §5.2: starts at 0, one up per NOTIFY). */
  version: number;
  /** The next NOTIFY carries full state (first one, refresh, list changed). */
  full: boolean;
  /** Resources (`bob@site`) whose state changed since the last NOTIFY. */
  readonly dirty: Set<string>;
}

/** NOTIFY transactions in flight at once (see schedule). */
const NOTIFY_WINDOW = 256;
/** A NOTIFY whose transaction has not ended after this long counts as failed (the stack always answers sooner). */
const NOTIFY_GUARD_MS = 45_000;
export type TerminationReason = 'timeout' | 'deactivated' | 'noresource' | 'rejected' | 'giveup';

export interface SubscriptionManagerDeps {
  /** What this watcher may see of the presentity right now. */
  view(site: string, presentity: string, watcher: Watcher): PresenceView;
  /** The same as a PIDF document (cached per access level by the caller). */
  pidf(site: string, presentity: string, watcher: Watcher): string;
  /** Sends a NOTIFY in a subscription's dialog. */
  notify: NotifySend;
  log: Logger;
  /** Where dialogs are kept across a restart. */
  journal?: SubscriptionJournal;
}

/** A subscription being ended: its final NOTIFY's reason and who waits for it. */
interface Ending {
  reason: TerminationReason;
  done: Promise<void>;
  resolve(): void;
}

export class SubscriptionManager {
  readonly #deps: SubscriptionManagerDeps;
  /** The stack's dialog id → subscription. */
  readonly #byDialog = new Map<string, Subscription>();
  /** `site\0presentity` → subscriptions watching that user. */
  readonly #byPresentity = new Map<string, Set<Subscription>>();
  /** `site\0presentity` → watcher-info subscriptions of that user. */
  readonly #winfo = new Map<string, Set<Subscription>>();
  /** `site\0user` → resource list subscriptions listing that user. */
  readonly #lists = new Map<string, Set<Subscription>>();
  /** `site\0owner` → resource list subscriptions of that owner's list. */
  readonly #listOwners = new Map<string, Set<Subscription>>();
  /** `site\0owner` → count, for the per-user limit. */
  readonly #byOwner = new Map<string, number>();
  /** Subscriptions waiting for their NOTIFY to go out, oldest first (from #readyHead). */
  #ready: Subscription[] = [];
  #readyHead = 0;
  /** NOTIFY transactions in flight: subscription → when it was sent (ms). */
  readonly #flight = new Map<Subscription, number>();
  /** Subscriptions whose final NOTIFY is queued or in flight. */
  readonly #ending = new Map<Subscription, Ending>();
  /** Expiry second → subscriptions that expired then (unless refreshed since: `expiresAt` moved). */
  readonly #expiry = new Map<number, Subscription[]>();
  /** Expiry buckets up to this second have been swept. */
  #swept = Math.floor(Date.now() / 1000);
  #ticker?: NodeJS.Timeout;
  /** Small strings many subscriptions share (sites, presentities, Event values), held once. */
  readonly #shared = new Map<string, string>();

  constructor(deps: SubscriptionManagerDeps) {
    this.#deps = deps;
  }

  count(site: string, owner: string): number {
    return this.#byOwner.get(`${site}\u0000${owner}`) ?? 0;
  }

  watchersOf(site: string, presentity: string): Subscription[] {
    return [...(this.#byPresentity.get(`${site}\u0000${presentity}`) ?? [])];
  }

  /** The live subscription of a dialog (an in-dialog SUBSCRIBE), if any. */
  byDialog(dialogId: string | undefined): Subscription | undefined {
    const sub = dialogId ? this.#byDialog.get(dialogId) : undefined;
    return sub && !sub.ended ? sub : undefined;
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byPresentity.values()) n += set.size;
    return n;
  }

  /**
   * Start a subscription on a dialog the stack has just established (our 2xx went out)
   * and send the initial NOTIFY. `record` is what the journal stores for a restart.
   */
  add(init: SubscriptionInit, expiresSec: number, record?: DialogRecord): Subscription {
    const key = init.key === undefined ? undefined : own(init.key);
    const sub = new Subscription({
      ...init,
      site: this.#share(init.site),
      presentity: this.#share(init.presentity),
      event: this.#share(init.event),
      key,
      owner: key !== undefined && init.owner === init.key ? key : own(init.owner),
      dialogId: own(init.dialogId),
    });
    this.#byDialog.set(sub.dialogId, sub);
    const pk = `${sub.site}\u0000${sub.presentity}`;
    addTo(this.#indexOf(sub), pk, sub);
    if (sub.kind === 'list') this.#indexList(sub, true);
    if (sub.kind === 'presence') this.#watchersChanged(sub.site, sub.presentity);
    const ok = `${sub.site}\u0000${sub.owner}`;
    this.#byOwner.set(ok, (this.#byOwner.get(ok) ?? 0) + 1);
    if (record && expiresSec > 0 && this.#deps.journal) {
      sub.set(JOURNALED, true);
      record.dialog = sub.dialogId;
      this.#arm(sub, expiresSec);
      record.expiresAt = sub.expiresAt;
      this.#deps.journal.put(record);
    } else {
      this.#arm(sub, expiresSec);
    }
    // A fetch (0) gets its state in the terminating NOTIFY alone.
    if (expiresSec > 0) this.schedule(sub);
    return sub;
  }

  /** An in-dialog SUBSCRIBE with a new expiry (already answered 200): re-arm and NOTIFY (RFC 6665 §4.2.1.2). */
  refresh(sub: Subscription, expiresSec: number): void {
    if (sub.ended) return;
    this.#arm(sub, expiresSec);
    if (sub.has(JOURNALED)) this.#deps.journal?.touch(sub.dialogId, sub.expiresAt);
    if (sub.list) sub.list.full = true;
    this.schedule(sub);
  }

  #indexOf(sub: Subscription): Map<string, Set<Subscription>> {
    return sub.kind === 'winfo' ? this.#winfo : sub.kind === 'list' ? this.#listOwners : this.#byPresentity;
  }

  #share(s: string): string {
    let v = this.#shared.get(s);
    if (v === undefined) {
      v = own(s);
      this.#shared.set(v, v);
    }
    return v;
  }

  #watchersChanged(site: string, presentity: string): void {
    for (const w of this.#winfo.get(`${site}\u0000${presentity}`) ?? []) this.schedule(w);
  }

  /** Queue a NOTIFY to every watcher of a user, and to resource list subscriptions listing the user. */
  notifyPresentity(site: string, presentity: string): void {
    const k = `${site}\u0000${presentity}`;
    for (const sub of this.#byPresentity.get(k) ?? []) this.schedule(sub);
    const lists = this.#lists.get(k);
    if (!lists) return;
    const address = `${presentity}@${site}`;
    for (const sub of lists) {
      sub.list!.dirty.add(address);
      this.schedule(sub);
    }
  }

  /** Resource list subscriptions of an owner's list (to replace their entries when the list changes). */
  listsOf(site: string, owner: string): Subscription[] {
    return [...(this.#listOwners.get(`${site}\u0000${owner}`) ?? [])];
  }

  /** The owner's list changed: new entries, and a full-state NOTIFY. */
  replaceList(sub: Subscription, entries: ListEntry[]): void {
    if (!sub.list || sub.ended) return;
    const instances = new Map(sub.list.entries.map((e) => [e.address, e.instance]));
    this.#indexList(sub, false);
    sub.list.entries = entries.map((e) => ({ ...e, instance: instances.get(e.address) ?? e.instance }));
    this.#indexList(sub, true);
    sub.list.full = true;
    this.schedule(sub);
  }

  #indexList(sub: Subscription, on: boolean): void {
    for (const e of sub.list!.entries) {
      if (!e.local) continue;
      const at = e.address.lastIndexOf('@');
      const k = `${e.address.slice(at + 1)}\u0000${e.address.slice(0, at)}`;
      if (on) addTo(this.#lists, k, sub);
      else removeFrom(this.#lists, k, sub);
    }
  }

  /**
   * Queue a NOTIFY with the state at send time; a no-op when one is already queued.
   * At most one NOTIFY per dialog is in flight, and at most NOTIFY_WINDOW in all: a
   * fan-out to thousands of watchers goes out as fast as answers come back, instead of
   * as one burst whose answers overflow the server's socket buffer (and are then
   * retransmitted half a second later).
   */
  schedule(sub: Subscription): void {
    if (sub.has(QUEUED) || sub.ended) return;
    sub.set(QUEUED, true);
    if (!sub.has(SENDING)) this.#ready.push(sub);
    this.#pump();
  }

  #pump(): void {
    while (this.#flight.size < NOTIFY_WINDOW && this.#readyHead < this.#ready.length) {
      const sub = this.#ready[this.#readyHead++]!;
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready.splice(0, this.#readyHead);
        this.#readyHead = 0;
      }
      sub.set(QUEUED, false);
      const ending = this.#ending.get(sub);
      if (sub.ended && !ending) continue;
      sub.set(SENDING, true);
      const state = ending ? `terminated;reason=${ending.reason}` : `active;expires=${Math.max(0, Math.floor(sub.expiresAt - Date.now() / 1000))}`;
      this.#send(sub, state, ending !== undefined);
    }
    if (this.#readyHead === this.#ready.length && this.#readyHead > 0) {
      this.#ready.length = 0;
      this.#readyHead = 0;
    }
  }

  /** End with a final NOTIFY (Subscription-State: terminated;reason=…), after any NOTIFY in flight. */
  terminate(sub: Subscription, reason: TerminationReason): Promise<void> {
    const ending = this.#ending.get(sub);
    if (ending) return ending.done;
    if (sub.ended) return Promise.resolve();
    this.#forget(sub);
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.#ending.set(sub, { reason, done, resolve });
    if (!sub.has(QUEUED)) {
      sub.set(QUEUED, true);
      if (!sub.has(SENDING)) this.#ready.push(sub);
    }
    this.#pump();
    return done;
  }

  /** Terminate every subscription of a site (or all), e.g. when the plugin is disabled or the host stops. */
  async terminateAll(reason: TerminationReason, site?: string): Promise<void> {
    const all: Subscription[] = [];
    for (const index of [this.#byPresentity, this.#winfo, this.#listOwners]) {
      for (const set of index.values()) for (const sub of set) if (!site || sub.site === site) all.push(sub);
    }
    await Promise.allSettled(all.map((sub) => this.terminate(sub, reason)));
  }

  /** Forget every subscription without NOTIFYs (the SIP engine is already down); their stored dialogs stay for the next start. */
  dropAll(): void {
    for (const index of [this.#byPresentity, this.#winfo, this.#listOwners]) {
      for (const set of [...index.values()]) for (const sub of [...set]) this.#forget(sub, false);
    }
    for (const [sub, ending] of this.#ending) {
      this.#ending.delete(sub);
      ending.resolve();
    }
    this.#flight.clear();
    this.#ready = [];
    this.#readyHead = 0;
    this.#expiry.clear();
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #arm(sub: Subscription, expiresSec: number): void {
    const at = Math.ceil(Date.now() / 1000 + expiresSec);
    sub.expiresAt = at;
    let bucket = this.#expiry.get(at);
    if (!bucket) this.#expiry.set(at, (bucket = []));
    bucket.push(sub);
    if (!this.#ticker) {
      this.#swept = Math.floor(Date.now() / 1000);
      this.#ticker = setInterval(() => this.#tick(), 1000);
      this.#ticker.unref();
    }
  }

  /** Once a second: end what expired, and give up on NOTIFYs the stack never answered. */
  #tick(): void {
    const now = Math.floor(Date.now() / 1000);
    for (let s = this.#swept + 1; s <= now; s++) {
      const bucket = this.#expiry.get(s);
      if (!bucket) continue;
      this.#expiry.delete(s);
      for (const sub of bucket) if (!sub.ended && sub.expiresAt === s) void this.terminate(sub, 'timeout');
    }
    this.#swept = now;
    const stale = Date.now() - NOTIFY_GUARD_MS;
    for (const [sub, sentAt] of this.#flight) if (sentAt < stale) this.#answered(sub, sentAt, 408, this.#ending.has(sub));
    if (this.#byDialog.size === 0 && this.#expiry.size === 0 && this.#flight.size === 0) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  #forget(sub: Subscription, journal = true): void {
    if (sub.ended) return;
    sub.set(ENDED, true);
    if (this.#byDialog.get(sub.dialogId) === sub) this.#byDialog.delete(sub.dialogId);
    if (journal && sub.has(JOURNALED)) this.#deps.journal?.remove(sub.dialogId);
    removeFrom(this.#indexOf(sub), `${sub.site}\u0000${sub.presentity}`, sub);
    if (sub.kind === 'list') this.#indexList(sub, false);
    if (sub.kind === 'presence') this.#watchersChanged(sub.site, sub.presentity);
    const ok = `${sub.site}\u0000${sub.owner}`;
    const n = (this.#byOwner.get(ok) ?? 1) - 1;
    if (n <= 0) this.#byOwner.delete(ok);
    else this.#byOwner.set(ok, n);
  }

  #body(sub: Subscription, final: boolean): { contentType: string; body: string } | undefined {
    if (sub.kind === 'list') return this.#renderList(sub, final);
    if (sub.kind === 'winfo') {
      const resource = `sip:${sub.presentity}@${sub.site}`;
      const watchers = this.watchersOf(sub.site, sub.presentity).map((w) => ({ id: w.dialogId, uri: w.uri, status: 'active' as const, event: 'subscribe' as const }));
      return { contentType: WINFO_CONTENT_TYPE, body: buildWatcherInfo(resource, sub.winfoVersion++, watchers) };
    }
    return { contentType: PIDF_CONTENT_TYPE, body: this.#deps.pidf(sub.site, sub.presentity, sub) };
  }

  /** Send one NOTIFY in the subscription's dialog; #answered runs when its transaction ends. */
  #send(sub: Subscription, state: string, final: boolean): void {
    const sentAt = Date.now();
    this.#flight.set(sub, sentAt);
    let rendered: { contentType: string; body: string } | undefined;
    try {
      rendered = this.#body(sub, final);
    } catch (err) {
      this.#deps.log.warn({ err, presentity: sub.presentity }, 'could not render a NOTIFY body');
    }
    if (!rendered) {
      // Nothing to say (a list with no changes): done without a NOTIFY.
      queueMicrotask(() => this.#answered(sub, sentAt, 200, final));
      return;
    }
    const headers: Record<string, string> = {
      Event: sub.event,
      'Subscription-State': state,
      'Content-Type': rendered.contentType,
    };
    if (sub.kind === 'list') headers.Require = 'eventlist';
    this.#deps.notify(sub.dialogId, { method: 'NOTIFY', headers, body: rendered.body }).then(
      (status) => this.#answered(sub, sentAt, status, final),
      (err: unknown) => {
        // Not sent, or cut short by the host stopping SIP (requestInDialog rejects then): the
        // subscriber said nothing, so its journal record stays, and the next start ends the dialog properly.
        this.#deps.log.warn({ err, presentity: sub.presentity }, 'NOTIFY not sent; subscription removed');
        this.#answered(sub, sentAt, 481, final, false);
      },
    );
  }

  /**
   * A NOTIFY's transaction ended with `status` (408 from the guard when the stack never said).
   * `journal`: whether a failure also removes the subscription's journal record (not when the
   * NOTIFY could not be sent: the subscriber never answered).
   */
  #answered(sub: Subscription, sentAt: number, status: number, final: boolean, journal = true): void {
    if (this.#flight.get(sub) !== sentAt) return; // the guard already gave up on this one
    this.#flight.delete(sub);
    sub.set(SENDING, false);
    if (final) {
      const ending = this.#ending.get(sub);
      this.#ending.delete(sub);
      ending?.resolve();
    } else if (status >= 300) {
      // 481 and other failures mean the subscriber is gone (RFC 6665 §4.2.2).
      this.#deps.log.info({ status, presentity: sub.presentity }, 'NOTIFY refused; subscription removed');
      this.#forget(sub, journal);
      const ending = this.#ending.get(sub);
      if (ending) {
        // Terminated while this NOTIFY was out, and the subscriber is gone: no final NOTIFY.
        this.#ending.delete(sub);
        ending.resolve();
      }
    } else if (sub.has(QUEUED)) {
      this.#ready.push(sub);
    }
    this.#pump();
  }

  /**
   * RFC 4662 body: full state (every entry) on the first NOTIFY, after a refresh or a list
   * change, and in the final one; otherwise only the entries whose state changed. Nothing to
   * say: undefined (no NOTIFY).
   */
  #renderList(sub: Subscription, final: boolean): { contentType: string; body: string } | undefined {
    const list = sub.list!;
    const full = final || list.full;
    const entries = full ? list.entries : list.entries.filter((e) => list.dirty.has(e.address));
    list.full = false;
    list.dirty.clear();
    if (!full && entries.length === 0) return undefined;
    const resources: ListResource[] = entries.map((e) => {
      const uri = `sip:${e.address}`;
      if (!e.local) return { uri, ...(e.name ? { name: e.name } : {}), instance: e.instance, state: 'terminated', reason: 'noresource' };
      const at = e.address.lastIndexOf('@');
      const view = this.#deps.view(e.address.slice(at + 1), e.address.slice(0, at), sub);
      return { uri, ...(e.name ? { name: e.name } : {}), instance: e.instance, state: 'active', pidf: buildPidf(uri, view) };
    });
    return buildListNotify(list.uri, list.name, list.version++, full, resources, sub.site);
  }

}

function addTo(index: Map<string, Set<Subscription>>, key: string, sub: Subscription): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(sub);
}

function removeFrom(index: Map<string, Set<Subscription>>, key: string, sub: Subscription): void {
  const set = index.get(key);
  set?.delete(sub);
  if (set?.size === 0) index.delete(key);
}

/**
 * A copy of `s` that holds nothing else. Strings cut from a parsed SIP message
 * (header values, tags, the dialog id) can be V8 slices or concatenations that keep
 * the whole message alive for as long as the piece is kept; a subscription keeps its
 * strings for its life, so it keeps fresh copies.
 */
export function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
