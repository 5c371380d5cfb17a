/** Dialogs by drachtio id and by (Call-ID, local tag, remote tag). */
import { ownCopy } from '../own-string.ts';
import { dialogKey, type Dialog } from './dialog.ts';

export class DialogStore {
  readonly #byId = new Map<string, Dialog>();
  readonly #byKey = new Map<string, Dialog>();

  get size(): number {
    return this.#byId.size;
  }

  /** Adds a dialog, making its id unique if a dialog with that id exists (a loop through this engine). */
  add(d: Dialog): Dialog {
    if (this.#byId.has(d.id)) d.id = `${d.id};${d.role}`;
    this.#byId.set(d.id, d);
    // Kept as long as the dialog: one flat string rather than the concatenation's pieces.
    this.#byKey.set(ownCopy(dialogKey(d.callId, d.localTag, d.remoteTag)), d);
    return d;
  }

  byId(id: string): Dialog | undefined {
    return this.#byId.get(id);
  }

  find(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    return this.#byKey.get(dialogKey(callId, localTag, remoteTag));
  }

  remove(d: Dialog): void {
    if (d.pending2xx) {
      clearTimeout(d.pending2xx.timer);
      clearTimeout(d.pending2xx.deadline);
      d.pending2xx = undefined;
    }
    if (this.#byId.get(d.id) === d) this.#byId.delete(d.id);
    const k = dialogKey(d.callId, d.localTag, d.remoteTag);
    if (this.#byKey.get(k) === d) this.#byKey.delete(k);
  }

  ownedBy(owner: unknown): Dialog[] {
    return [...this.#byId.values()].filter((d) => d.owner === owner);
  }

  all(): Dialog[] {
    return [...this.#byId.values()];
  }
}
