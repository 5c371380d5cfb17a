/**
 * Store-and-forward: when a user with waiting messages registers (the core's
 * `registrar.changed` event), send a missed-conversation notice, then each
 * waiting message in order. A message leaves the queue only once an endpoint
 * accepted it, so a failed attempt is retried at the next registration.
 */
import { In } from 'typeorm';
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import { ImMessageEntity, ImPendingEntity } from './entities/message.ts';
import { viewOf } from './history.ts';
import type { LivePush } from './live-push.ts';
import { deliverTo, messageHeaders } from './messenger.ts';

export interface RegistrarChanged {
  site: string;
  user: string;
  contacts: number;
}

/** The From user of notices; not a directory user, so nobody can impersonate it by registering. */
export const NOTICE_USER = 'missed-conversations';

export class OfflineDelivery {
  readonly #ctx: PluginContext<ImConfig>;
  /** One flush at a time per user, so two registrations cannot send a message twice. */
  readonly #running = new Map<string, Promise<void>>();

  constructor(ctx: PluginContext<ImConfig>) {
    this.#ctx = ctx;
  }

  onRegistrarChanged(event: RegistrarChanged): Promise<void> {
    if (!event || event.contacts <= 0 || !this.#ctx.sites.isEnabled(event.site)) return Promise.resolve();
    return this.#serial(event.site, event.user, async () => { await this.flush(event.site, event.user); });
  }

  /** A browser session of `user` opened: what waits is pushed as one `im.missed` event. */
  onSignIn(site: string, user: string, push: LivePush): Promise<void> {
    if (!this.#ctx.sites.isEnabled(site)) return Promise.resolve();
    return this.#serial(site, user, async () => { await this.flushToWeb(site, user, push); });
  }

  #serial(site: string, user: string, work: () => Promise<void>): Promise<void> {
    const key = `${site}\n${user}`;
    const previous = this.#running.get(key) ?? Promise.resolve();
    const next: Promise<void> = previous.then(work).finally(() => {
      if (this.#running.get(key) === next) this.#running.delete(key);
    });
    this.#running.set(key, next);
    return next;
  }

  /** Push what waits for `user` to their browser sessions; it leaves the queue once a session got it. */
  async flushToWeb(site: string, user: string, push: LivePush): Promise<number> {
    const ctx = this.#ctx;
    const pendingRepo = ctx.db.repository(ImPendingEntity);
    const waiting = await pendingRepo.find({ where: { site, recipient: user }, order: { id: 'ASC' }, take: 500 });
    if (!waiting.length) return 0;
    const found = await ctx.db.repository(ImMessageEntity).findBy({ id: In(waiting.map((w) => w.messageId)) });
    const messages = found.sort((a, b) => a.id - b.id).map(viewOf);
    const senders = [...new Set(messages.map((m) => m.sender))];
    if (push.missed(site, user, { count: messages.length, senders, messages }) === 0) return 0;
    await pendingRepo.delete({ id: In(waiting.map((w) => w.id)) });
    ctx.log.info({ site, user, sent: messages.length }, 'pushed stored messages to the browser');
    return messages.length;
  }

  /** Deliver what waits for `user`; returns how many messages went out. */
  async flush(site: string, user: string): Promise<number> {
    const ctx = this.#ctx;
    const pendingRepo = ctx.db.repository(ImPendingEntity);
    const waiting = await pendingRepo.find({ where: { site, recipient: user }, order: { id: 'ASC' }, take: 500 });
    if (!waiting.length) return 0;
    const messages = new Map((await ctx.db.repository(ImMessageEntity).findBy({ id: In(waiting.map((w) => w.messageId)) })).map((m) => [m.id, m]));
    const senders = [...new Set([...messages.values()].map((m) => m.sender))];
    const notice = `Missed conversation: ${waiting.length} message${waiting.length === 1 ? '' : 's'} from ${senders.join(', ')} while you were offline.`;
    const noticeHeaders = await messageHeaders(ctx, site, NOTICE_USER, user, 'text/plain', `sip:${NOTICE_USER}@${site}`, 'Missed conversations');
    if (!(await deliverTo(ctx, site, user, noticeHeaders, notice))) return 0;
    let sent = 0;
    for (const item of waiting) {
      const message = messages.get(item.messageId);
      if (message) {
        const headers = await messageHeaders(ctx, site, message.sender, user, message.contentType);
        if (!(await deliverTo(ctx, site, user, headers, message.body))) break;
        sent++;
      }
      await pendingRepo.delete({ id: item.id });
    }
    ctx.log.info({ site, user, sent, waiting: waiting.length }, 'delivered stored messages');
    return sent;
  }
}
