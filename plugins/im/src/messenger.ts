/**
 * Pager-mode delivery shared by SIP and HTTP senders: size check, presence
 * policy, filter chain, then a MESSAGE to every endpoint of the recipient.
 * A recipient without a reachable endpoint gets the message stored and
 * delivered when it next registers (see offline.ts).
 */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import { ImError } from './errors.ts';
import type { FilterChain, Via } from './filters.ts';
import { History, pairId, viewOf } from './history.ts';
import type { LivePush } from './live-push.ts';
import { ImPendingEntity, type ImMessage } from './entities/message.ts';
import { mayInterrupt } from './presence-gate.ts';
import { directoryOf } from './directory-cache.ts';
import { emojify } from './emoticons.ts';
import { RICH_TEXT, sanitizeRichText } from './rich-text.ts';

export interface PagerMessage {
  site: string;
  sender: string;
  recipient: string;
  contentType: string;
  body: string;
  via: Via;
}

export type PagerOutcome = { status: 'delivered' | 'stored'; message: ImMessage };

/** Headers of a MESSAGE the server sends on behalf of `sender`. */
export async function messageHeaders(ctx: PluginContext<ImConfig>, site: string, sender: string, recipient: string, contentType: string, fromUri?: string, display?: string): Promise<Record<string, string>> {
  const name = display ?? (await directoryOf(ctx).findUser(site, sender))?.displayName ?? sender;
  return {
    From: `"${name.replace(/["\\\r\n]/g, '')}" <${fromUri ?? `sip:${sender}@${site}`}>`,
    To: `<sip:${recipient}@${site}>`,
    'Content-Type': contentType,
  };
}

/** Send to every endpoint; true when at least one accepted (2xx). */
export async function deliverTo(ctx: PluginContext<ImConfig>, site: string, recipient: string, headers: Record<string, string>, body: string): Promise<boolean> {
  const results = await ctx.sip.sendToUser(site, recipient, { method: 'MESSAGE', headers, body });
  return results.some((r) => r.status >= 200 && r.status < 300);
}

/**
 * false when `delivery` has not settled within `ms`. An endpoint that never
 * answers would otherwise hold the sender until both transactions time out
 * (32 s); storing the message keeps it from being lost, at the price of a
 * possible second copy if the slow endpoint accepts it after all.
 */
async function withinWait(delivery: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([delivery, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class Messenger {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #filters: FilterChain;
  readonly #history: History;
  readonly #push: LivePush;

  constructor(ctx: PluginContext<ImConfig>, filters: FilterChain, history: History, push: LivePush) {
    this.#ctx = ctx;
    this.#filters = filters;
    this.#history = history;
    this.#push = push;
  }

  /** Throws ImError with the reason when the message is refused. */
  async screen(site: string, sender: string, recipients: string[], contentType: string, body: string, via: Via, config = this.#ctx.config(site)): Promise<string> {
    if (Buffer.byteLength(body) > config.maxBodyBytes) throw new ImError('IM_ERR_TOO_LARGE', `at most ${config.maxBodyBytes} bytes`);
    const emoticons = config.emoticons !== false;
    const clean = contentType === RICH_TEXT ? sanitizeRichText(body, config.urls === 'allow', emoticons)
      : contentType === 'text/plain' && emoticons ? emojify(body) : body;
    const verdict = await this.#filters.run({ site, sender, recipients, contentType, body: clean, via }, config);
    if (!verdict.ok) throw new ImError(verdict.rateLimited ? 'IM_ERR_RATE_LIMITED' : 'IM_ERR_BLOCKED', verdict.reason);
    return verdict.body;
  }

  async send(m: PagerMessage): Promise<PagerOutcome> {
    const ctx = this.#ctx;
    // Refused as if offline, so a blocked sender learns nothing more than that.
    if (!(await mayInterrupt(ctx, m.site, m.sender, m.recipient))) throw new ImError('IM_ERR_UNAVAILABLE');
    const config = ctx.config(m.site);
    const body = await this.screen(m.site, m.sender, [m.recipient], m.contentType, m.body, m.via, config);
    const headers = await messageHeaders(ctx, m.site, m.sender, m.recipient, m.contentType);
    const sipDelivery = deliverTo(ctx, m.site, m.recipient, headers, body);
    let delivered: boolean;
    if (this.#push.online(m.site, m.recipient)) {
      // The recipient reads it in the browser now; the phones get it too, without holding the sender.
      delivered = true;
      void sipDelivery.catch((err: unknown) => ctx.log.warn({ err, site: m.site, to: m.recipient }, 'MESSAGE to endpoints failed'));
    } else {
      delivered = await withinWait(sipDelivery, config.deliveryWaitSeconds * 1000);
    }
    if (!delivered && !config.offlineDelivery) throw new ImError('IM_ERR_UNAVAILABLE');
    const message = await this.#history.record({
      site: m.site, conversationId: pairId(m.sender, m.recipient), sender: m.sender, recipients: [m.recipient],
      contentType: m.contentType, body, via: m.via,
    });
    // A browser session opened while the endpoints were tried counts as delivery too.
    if (this.#push.message(viewOf(message)) > 0) delivered = true;
    if (delivered) return { status: 'delivered', message };
    await ctx.db.repository(ImPendingEntity).save({ site: m.site, recipient: m.recipient, messageId: message.id, createdAt: message.createdAt });
    return { status: 'stored', message };
  }
}
