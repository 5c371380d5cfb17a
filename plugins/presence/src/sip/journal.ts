/**
 * Subscription dialogs on disk, so a restart ends them cleanly.
 *
 * The SIP engine keeps dialogs in memory only, so after a restart the
 * plugin cannot NOTIFY in them as drachtio dialogs. What it can do is tell
 * each subscriber the subscription is over: a NOTIFY with
 * `Subscription-State: terminated;reason=deactivated` built from the stored
 * dialog (Call-ID, tags, a CSeq above any used before), upon which the
 * client subscribes anew at once (RFC 6665 §4.1.3). Subscribers the plugin
 * cannot reach that way find out at their next refresh, which gets 481.
 *
 * Writes are batched (write-behind, one transaction a second) so that
 * subscribing stays cheap; a clean stop flushes what is pending.
 */
import { In } from 'typeorm';
import type { Logger } from 'pino';
import type { PluginDb } from '@switchboard/sdk';
import { SubscriptionEntity, type SubscriptionRow } from '../entities/tables.ts';

export type DialogRecord = Omit<SubscriptionRow, 'id'>;

const FLUSH_MS = 1000;
const CHUNK = 200;

export class SubscriptionJournal {
  readonly #db: PluginDb;
  readonly #log: Logger;
  /** dialog → the row to write, a new expiry (s) for a row already written, or null to delete. */
  #pending = new Map<string, DialogRecord | number | null>();
  #timer?: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: PluginDb, log: Logger) {
    this.#db = db;
    this.#log = log;
  }

  put(record: DialogRecord): void {
    this.#pending.set(record.dialog, record);
    this.#schedule();
  }

  /** A refreshed subscription: only its expiry changes (the rest of the row is on disk or pending). */
  touch(dialog: string, expiresAt: number): void {
    const pending = this.#pending.get(dialog);
    if (pending === null) return;
    if (pending !== undefined && typeof pending === 'object') pending.expiresAt = expiresAt;
    else this.#pending.set(dialog, expiresAt);
    this.#schedule();
  }

  remove(dialog: string): void {
    this.#pending.set(dialog, null);
    this.#schedule();
  }

  /** Write what is pending now. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#flushing.then(() => this.#write(batch)).catch((err: unknown) => {
      this.#log.warn({ err }, 'could not store presence subscriptions');
    });
    return this.#flushing;
  }

  /** Every stored dialog, and the table emptied: what was live before the restart. */
  async takeAll(): Promise<DialogRecord[]> {
    const repo = this.#db.repository(SubscriptionEntity);
    const rows = await repo.find();
    const ids = rows.map((r) => r.id);
    for (let i = 0; i < ids.length; i += CHUNK) await repo.delete({ id: In(ids.slice(i, i + CHUNK)) });
    return rows.map(({ id: _id, ...rest }) => rest);
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  async #write(batch: Map<string, DialogRecord | number | null>): Promise<void> {
    if (batch.size === 0) return;
    const replaced: string[] = [];
    const rows: DialogRecord[] = [];
    /** expiry → dialogs refreshed to it. */
    const touched = new Map<number, string[]>();
    for (const [dialog, v] of batch) {
      if (typeof v === 'number') {
        const list = touched.get(v);
        if (list) list.push(dialog);
        else touched.set(v, [dialog]);
        continue;
      }
      replaced.push(dialog);
      if (v !== null) rows.push(v);
    }
    await this.#db.transaction(async (tx) => {
      const repo = tx.repository(SubscriptionEntity);
      for (let i = 0; i < replaced.length; i += CHUNK) await repo.delete({ dialog: In(replaced.slice(i, i + CHUNK)) });
      for (let i = 0; i < rows.length; i += CHUNK) await repo.insert(rows.slice(i, i + CHUNK));
      for (const [expiresAt, dialogs] of touched) {
        for (let i = 0; i < dialogs.length; i += CHUNK) await repo.update({ dialog: In(dialogs.slice(i, i + CHUNK)) }, { expiresAt });
      }
    });
  }
}
