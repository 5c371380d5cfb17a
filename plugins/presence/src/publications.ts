/**
 * Soft state of PUBLISH (RFC 3903): per user, one entry per device, each
 * under its current entity tag with its own expiry. A refresh or modify
 * replaces the tag; the device id (the first tag) stays, so composition can
 * tell devices apart. Also holds the web client's manual state (device
 * `web`, no expiry), which the plugin keeps in its table across restarts.
 *
 * One socket is one device: an initial PUBLISH from the same origin (the
 * transport, source address and port, User-Agent and tuple ids) as a live
 * publication replaces it instead of adding a second device. A client that
 * lost its entity tag, or sent its first PUBLISH twice (baresip 1.0 does at
 * start-up), would otherwise leave a stale copy of its old state in the
 * composition until that copy expired.
 */
import { randomBytes } from 'node:crypto';
import type { Publication } from './compose.ts';
import type { DevicePresence } from './pidf/parse.ts';

interface Entry {
  etag: string;
  publication: Publication;
  timer?: NodeJS.Timeout;
  /** Where the device's PUBLISHes come from (see the top of this file). */
  origin?: string;
}

export type ChangeListener = (site: string, username: string) => void;

export class PublicationStore {
  /** `site\0username` → etag → entry. */
  readonly #byUser = new Map<string, Map<string, Entry>>();
  readonly #onChange: ChangeListener;

  constructor(onChange: ChangeListener) {
    this.#onChange = onChange;
  }

  list(site: string, username: string): Publication[] {
    return [...(this.#byUser.get(key(site, username))?.values() ?? [])].map((e) => e.publication);
  }

  has(site: string, username: string, etag: string): boolean {
    return this.#byUser.get(key(site, username))?.has(etag) ?? false;
  }

  /** Initial publication; returns the new entity tag. A live publication from the same `origin` is replaced. */
  create(site: string, username: string, doc: DevicePresence, expiresSec: number, origin?: string): string {
    const etag = newTag();
    const entries = this.#byUser.get(key(site, username));
    if (origin !== undefined && entries) {
      for (const [tag, entry] of entries) {
        if (entry.origin !== origin) continue;
        clearTimeout(entry.timer);
        entries.delete(tag);
      }
    }
    this.#put(site, username, { etag, publication: { ...doc, device: etag, updatedAt: Date.now() }, ...(origin !== undefined ? { origin } : {}) }, expiresSec);
    return etag;
  }

  /** Refresh (doc undefined) or modify under `etag`; returns the new tag, or undefined for an unknown tag. */
  update(site: string, username: string, etag: string, doc: DevicePresence | undefined, expiresSec: number): string | undefined {
    const entries = this.#byUser.get(key(site, username));
    const old = entries?.get(etag);
    if (!entries || !old) return undefined;
    clearTimeout(old.timer);
    entries.delete(etag);
    const next = newTag();
    const publication = doc ? { ...doc, device: old.publication.device, updatedAt: Date.now() } : old.publication;
    this.#put(site, username, { etag: next, publication, ...(old.origin !== undefined ? { origin: old.origin } : {}) }, expiresSec, doc !== undefined);
    return next;
  }

  /** Remove under `etag`; false for an unknown tag. */
  remove(site: string, username: string, etag: string): boolean {
    const entries = this.#byUser.get(key(site, username));
    const old = entries?.get(etag);
    if (!entries || !old) return false;
    clearTimeout(old.timer);
    entries.delete(etag);
    if (entries.size === 0) this.#byUser.delete(key(site, username));
    this.#onChange(site, username);
    return true;
  }

  /** The web client's manual state (no expiry); undefined clears it. */
  setWeb(site: string, username: string, doc: DevicePresence | undefined, updatedAt = Date.now()): void {
    this.setDevice(site, username, 'web', doc, 0, updatedAt);
  }

  /**
   * A device the plugin itself tracks under a fixed id (`web`, `web-idle`):
   * replaced as a whole, removed after `expiresSec` (0: never) or when `doc` is undefined.
   */
  setDevice(site: string, username: string, device: string, doc: DevicePresence | undefined, expiresSec: number, updatedAt = Date.now()): void {
    if (!doc) {
      this.remove(site, username, device);
      return;
    }
    const old = this.#byUser.get(key(site, username))?.get(device);
    if (old) {
      clearTimeout(old.timer);
      this.#byUser.get(key(site, username))!.delete(device);
    }
    this.#put(site, username, { etag: device, publication: { ...doc, device, updatedAt } }, expiresSec);
  }

  /** Drop everything of a site (plugin disabled there). */
  clearSite(site: string): void {
    for (const [k, entries] of this.#byUser) {
      if (!k.startsWith(`${site}\u0000`)) continue;
      for (const e of entries.values()) clearTimeout(e.timer);
      this.#byUser.delete(k);
    }
  }

  close(): void {
    for (const entries of this.#byUser.values()) for (const e of entries.values()) clearTimeout(e.timer);
    this.#byUser.clear();
  }

  #put(site: string, username: string, entry: Entry, expiresSec: number, changed = true): void {
    const k = key(site, username);
    let entries = this.#byUser.get(k);
    if (!entries) {
      entries = new Map();
      this.#byUser.set(k, entries);
    }
    if (expiresSec > 0) {
      entry.timer = setTimeout(() => this.remove(site, username, entry.etag), expiresSec * 1000);
      entry.timer.unref();
    }
    entries.set(entry.etag, entry);
    if (changed) this.#onChange(site, username);
  }
}

function key(site: string, username: string): string {
  return `${site}\u0000${username}`;
}

function newTag(): string {
  return randomBytes(12).toString('base64url');
}
