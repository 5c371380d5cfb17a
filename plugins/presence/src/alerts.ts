/**
 * Contact tagging: an owner who tagged a contact gets an alert when that
 * contact's state (as the owner may see it) changes. Alerts are kept in
 * memory, the last 100 per owner, and read by the web client with
 * `GET /alerts?after=<seq>`; they are not restored after a restart.
 */
import type { PresenceView } from './access.ts';
import { ContactEntity } from './entities/tables.ts';
import type { PresenceCore } from './presence-core.ts';

export interface Alert {
  seq: number;
  at: string;
  /** The contact's address (`user@site`). */
  contact: string;
  presence: PresenceView;
}

const KEEP = 100;

export class TagAlerts {
  readonly #core: PresenceCore;
  /** contact address → owner keys (`owner@site`) who tagged it. */
  readonly #taggedBy = new Map<string, Set<string>>();
  /** owner key → alerts, oldest first. */
  readonly #alerts = new Map<string, Alert[]>();
  /** `owner\0contact` → the state last alerted (or seen at tagging). */
  readonly #lastState = new Map<string, string>();
  #seq = 0;

  constructor(core: PresenceCore) {
    this.#core = core;
  }

  async load(): Promise<void> {
    for (const row of await this.#core.ctx.db.repository(ContactEntity).findBy({ tagged: true, kind: 'user' })) {
      this.retag(`${row.owner}@${row.site}`, row.address, true);
    }
  }

  /** Keep the index in step with the contact lists. */
  retag(ownerKey: string, address: string, tagged: boolean): void {
    let owners = this.#taggedBy.get(address);
    if (tagged) {
      if (!owners) {
        owners = new Set();
        this.#taggedBy.set(address, owners);
      }
      owners.add(ownerKey);
      this.#lastState.set(`${ownerKey}\u0000${address}`, this.#viewFor(ownerKey, address).state);
      return;
    }
    owners?.delete(ownerKey);
    if (owners?.size === 0) this.#taggedBy.delete(address);
    this.#lastState.delete(`${ownerKey}\u0000${address}`);
  }

  /** A user's composed state changed. */
  changed(site: string, username: string): void {
    const address = `${username}@${site}`;
    for (const ownerKey of this.#taggedBy.get(address) ?? []) {
      const view = this.#viewFor(ownerKey, address);
      const k = `${ownerKey}\u0000${address}`;
      if (this.#lastState.get(k) === view.state) continue;
      this.#lastState.set(k, view.state);
      const list = this.#alerts.get(ownerKey) ?? [];
      const alert: Alert = { seq: ++this.#seq, at: new Date().toISOString(), contact: address, presence: view };
      list.push(alert);
      if (list.length > KEEP) list.splice(0, list.length - KEEP);
      this.#alerts.set(ownerKey, list);
      this.#core.live.alert(ownerKey, alert);
    }
  }

  since(ownerKey: string, after: number): Alert[] {
    return (this.#alerts.get(ownerKey) ?? []).filter((a) => a.seq > after);
  }

  #viewFor(ownerKey: string, address: string): PresenceView {
    const at = address.lastIndexOf('@');
    return this.#core.view(address.slice(at + 1), address.slice(0, at), { key: ownerKey });
  }
}
