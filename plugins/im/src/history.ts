/**
 * Message history: every accepted message is kept once, with its sender and
 * recipients, and published as a durable `im.message` event for archiving.
 * Search is per user (sender or recipient) by participant, date range and
 * keyword; keywords use the full-text index (FTS5 on SQLite, FULLTEXT on
 * MariaDB; see full-text.ts).
 */
import { In } from 'typeorm';
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import type { Via } from './filters.ts';
import { ImMessageEntity, type ImMessage } from './entities/message.ts';
import { FullText, likeLiteral } from './full-text.ts';

export interface NewMessage {
  site: string;
  conversationId: string;
  sender: string;
  recipients: string[];
  contentType: string;
  body: string;
  via: Via;
}

export interface HistoryQuery {
  /** Only messages this other user sent or received (with the searching user). */
  with?: string;
  conversationId?: string;
  /** ISO 8601 bounds, inclusive. */
  from?: string;
  to?: string;
  /** Words that must all occur in the body (case-insensitive, as word prefixes; see full-text.ts). */
  q?: string;
  /** Only messages with an id above this (paging forward). */
  afterId?: number;
  /** Only messages with an id below this (paging back, with `newest`). */
  beforeId?: number;
  /** The newest `limit` matches instead of the oldest (still returned oldest first). */
  newest?: boolean;
  limit?: number;
}

/** What the HTTP API and the `im.message` event show of a message. */
export interface MessageView {
  id: number;
  site: string;
  conversationId: string;
  sender: string;
  recipients: string[];
  contentType: string;
  body: string;
  at: string;
  via: string;
}

export function viewOf(m: ImMessage): MessageView {
  return {
    id: m.id,
    site: m.site,
    conversationId: m.conversationId,
    sender: m.sender,
    recipients: m.recipients.split(',').filter(Boolean),
    contentType: m.contentType,
    body: m.body,
    at: m.createdAt,
    via: m.via,
  };
}

/** The conversation id of a pager-mode exchange between two users (order-independent). */
export function pairId(a: string, b: string): string {
  return `pair:${[a, b].sort().join(':')}`;
}

/** A batch committed this recently means load: gather the next one for GATHER_MS (see History#schedule). */
const BUSY_MS = 20;
const GATHER_MS = 8;

/** A row as migration 001 names its columns. */
function columnsOf(r: Omit<ImMessage, 'id'>): Record<string, string> {
  return { site: r.site, conversation_id: r.conversationId, sender: r.sender, recipients: r.recipients, content_type: r.contentType, body: r.body, created_at: r.createdAt, via: r.via };
}

export class History {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #fullText: FullText;

  constructor(ctx: PluginContext<ImConfig>) {
    this.#ctx = ctx;
    this.#fullText = new FullText(() => ctx.db.repository(ImMessageEntity) as never);
  }

  /**
   * Store a message and publish it as `im.message`. Messages recorded at the
   * same moment are written in one transaction (group commit: one sync to
   * disk for many messages under load); each caller's promise resolves once
   * its row is committed.
   */
  async record(message: NewMessage): Promise<ImMessage> {
    const row: Omit<ImMessage, 'id'> = {
      site: message.site,
      conversationId: message.conversationId,
      sender: message.sender,
      recipients: `,${message.recipients.join(',')},`,
      contentType: message.contentType,
      body: message.body,
      createdAt: new Date().toISOString(),
      via: message.via,
    };
    const saved = await new Promise<ImMessage>((resolve, reject) => {
      this.#queue.push({ row, resolve, reject });
      this.#schedule();
    });
    await this.#ctx.events.publish('im.message', viewOf(saved));
    return saved;
  }

  readonly #queue: Array<{ row: Omit<ImMessage, 'id'>; resolve: (m: ImMessage) => void; reject: (err: unknown) => void }> = [];
  #scheduled = false;
  #writing = false;
  /** When the last batch was committed (ms, monotonic). */
  #lastCommit = -Infinity;

  /**
   * A message alone is written at once. Under load (a batch committed
   * within the last BUSY_MS) the next batch gathers for GATHER_MS first:
   * every transaction writes a new FTS5 segment and merges follow, so rows
   * written ten at a time cost about half the CPU of rows written one or two
   * at a time (on the writer thread, beside the SIP one: see #write).
   */
  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      void this.#write();
    };
    if (performance.now() - this.#lastCommit < BUSY_MS) setTimeout(run, GATHER_MS);
    else setImmediate(run);
  }

  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, 200);
        try {
          // Off the SIP thread on a SQLite file (ctx.db.insertRows): the FTS5 trigger's merges run there.
          const ids = await this.#ctx.db.insertRows('im_messages', batch.map((item) => columnsOf(item.row)));
          this.#lastCommit = performance.now();
          batch.forEach((item, i) => item.resolve({ id: ids[i]!, ...item.row }));
        } catch (err) {
          // Written or not is unknown: trying again could keep a message twice.
          if ((err as { code?: string }).code === 'CORE_ERR_STORAGE_WRITER_LOST') {
            for (const item of batch) item.reject(err);
            continue;
          }
          // One bad row must not fail the others: write them one by one.
          for (const item of batch) {
            try {
              const [id] = await this.#ctx.db.insertRows('im_messages', [columnsOf(item.row)]);
              item.resolve({ id: id!, ...item.row });
            } catch (err) {
              item.reject(err);
            }
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  async get(id: number): Promise<ImMessage | null> {
    return this.#ctx.db.repository(ImMessageEntity).findOneBy({ id });
  }

  /** The messages `user` sent or received on `site`. */
  #mine(site: string, user: string) {
    return this.#ctx.db.repository(ImMessageEntity).createQueryBuilder('m')
      .where('m.site = :site', { site })
      .andWhere("(m.sender = :user OR m.recipients LIKE :userLike ESCAPE '!')", { user, userLike: `%,${likeLiteral(user)},%` });
  }

  /**
   * Messages `user` sent or received on `site`, oldest first: the first
   * `limit` that match, or with `newest` the last `limit` (below `beforeId`
   * when given), so a window can show the latest and page back.
   */
  async search(site: string, user: string, query: HistoryQuery): Promise<MessageView[]> {
    const qb = this.#mine(site, user);
    if (query.with) {
      qb.andWhere("(m.sender = :other OR m.recipients LIKE :otherLike ESCAPE '!')", { other: query.with, otherLike: `%,${likeLiteral(query.with)},%` });
    }
    if (query.conversationId) qb.andWhere('m.conversationId = :conversationId', { conversationId: query.conversationId });
    if (query.from) qb.andWhere('m.createdAt >= :from', { from: new Date(query.from).toISOString() });
    if (query.to) qb.andWhere('m.createdAt <= :to', { to: new Date(query.to).toISOString() });
    if (query.afterId !== undefined) qb.andWhere('m.id > :afterId', { afterId: query.afterId });
    if (query.beforeId !== undefined) qb.andWhere('m.id < :beforeId', { beforeId: query.beforeId });
    if (query.q?.trim()) await this.#fullText.apply(qb, 'm', query.q);
    const rows = await qb.orderBy('m.id', query.newest ? 'DESC' : 'ASC').take(Math.min(query.limit ?? 100, 500)).getMany();
    if (query.newest) rows.reverse();
    return rows.map(viewOf);
  }

  /** The latest message of each conversation `user` has messages in, newest first (at most `limit`). */
  async latestPerConversation(site: string, user: string, limit: number): Promise<MessageView[]> {
    const latest = await this.#mine(site, user)
      .select('MAX(m.id)', 'lastId')
      .groupBy('m.conversationId')
      .orderBy('MAX(m.id)', 'DESC')
      .limit(limit)
      .getRawMany<{ lastId: number | string }>();
    if (!latest.length) return [];
    const rows = await this.#ctx.db.repository(ImMessageEntity).findBy({ id: In(latest.map((r) => Number(r.lastId))) });
    return rows.sort((a, b) => b.id - a.id).map(viewOf);
  }
}
