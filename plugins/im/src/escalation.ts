/**
 * The escalation hook: a participant asks to take a conversation (one-to-one
 * or multiparty) to a call, a video call or a conference. The IM plugin does
 * not place calls itself; it hands the request, with the conversation's
 * participants, to whatever plugin handles that medium:
 *
 * - synchronously, through the `im.escalation` service: a calls or
 *   conference plugin registers a handler and its answer (e.g. the address
 *   to join) goes back to the requester and to every participant's browser;
 * - and always as the `im.escalate` event (subscribe durably to act on it
 *   later or to record it).
 */
import { randomBytes } from 'node:crypto';
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import type { Conversations } from './conversations.ts';
import { ImError } from './errors.ts';
import { pairId } from './history.ts';
import type { LivePush } from './live-push.ts';

export const ESCALATION_MEDIA = ['audio', 'video', 'conference'] as const;
export type EscalationMedium = (typeof ESCALATION_MEDIA)[number];

/** What a handler and the `im.escalate` event get. */
export interface EscalationRequest {
  /** Unique id of this request. */
  id: string;
  site: string;
  /** `pair:<a>:<b>` for one-to-one, else the conversation id. */
  conversationId: string;
  /** The conversation's SIP address (`sip:conf-<id>@site`), or the other party's for one-to-one. */
  address: string;
  subject: string;
  requestedBy: string;
  medium: EscalationMedium;
  /** Every participant (usernames), the requester included. */
  participants: string[];
  at: string;
}

/** A handler's answer: where participants join or what happened. */
export interface EscalationResult {
  /** A SIP URI to call or join (e.g. the conference bridge). */
  address?: string;
  /** A web address to join, if the medium has one. */
  url?: string;
  /** Free text for people. */
  detail?: string;
}

export interface EscalationHandler {
  readonly name: string;
  readonly media: readonly EscalationMedium[];
  escalate(request: EscalationRequest): EscalationResult | Promise<EscalationResult>;
}

/** The `im.escalation` service. */
export interface ImEscalation {
  register(handler: EscalationHandler): void;
  unregister(name: string): void;
}

export interface EscalationOutcome {
  escalation: EscalationRequest;
  /** The handler that answered, or null when none is registered for the medium (the event still went out). */
  handledBy: string | null;
  result: EscalationResult | null;
}

export class Escalations implements ImEscalation {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #conversations: Conversations;
  readonly #push: LivePush;
  readonly #handlers: EscalationHandler[] = [];

  constructor(ctx: PluginContext<ImConfig>, conversations: Conversations, push: LivePush) {
    this.#ctx = ctx;
    this.#conversations = conversations;
    this.#push = push;
  }

  register(handler: EscalationHandler): void {
    if (typeof handler?.name !== 'string' || typeof handler.escalate !== 'function' || !Array.isArray(handler.media)
      || handler.media.some((m) => !(ESCALATION_MEDIA as readonly string[]).includes(m))) {
      throw new TypeError(`an escalation handler needs a name, an escalate function and media among ${ESCALATION_MEDIA.join(', ')}`);
    }
    this.unregister(handler.name);
    this.#handlers.push(handler);
  }

  unregister(name: string): void {
    const i = this.#handlers.findIndex((h) => h.name === name);
    if (i >= 0) this.#handlers.splice(i, 1);
  }

  /** Escalate a multiparty conversation `requestedBy` takes part in. */
  async conversation(site: string, id: string, requestedBy: string, medium: EscalationMedium): Promise<EscalationOutcome> {
    const view = await this.#conversations.view(site, id, requestedBy);
    return this.#run({ site, conversationId: id, address: view.address, subject: view.subject, requestedBy, medium, participants: view.participants });
  }

  /** Escalate the one-to-one conversation of `requestedBy` with `other`. */
  async pair(site: string, requestedBy: string, other: string, medium: EscalationMedium): Promise<EscalationOutcome> {
    const user = await this.#ctx.directory.findByAddress(site, other.toLowerCase());
    if (!user || !user.enabled) throw new ImError('IM_ERR_UNKNOWN_USER', other);
    if (user.username === requestedBy) throw new ImError('IM_ERR_BAD_REQUEST', 'escalate a conversation with someone else');
    return this.#run({ site, conversationId: pairId(requestedBy, user.username), address: `sip:${user.username}@${site}`, subject: '', requestedBy, medium, participants: [requestedBy, user.username] });
  }

  async #run(base: Omit<EscalationRequest, 'id' | 'at'>): Promise<EscalationOutcome> {
    const escalation: EscalationRequest = { id: randomBytes(8).toString('hex'), ...base, at: new Date().toISOString() };
    const handler = this.#handlers.find((h) => h.media.includes(escalation.medium));
    let result: EscalationResult | null = null;
    if (handler) {
      try {
        result = resultOf(await handler.escalate({ ...escalation, participants: [...escalation.participants] }));
      } catch (err) {
        this.#ctx.log.warn({ err, handler: handler.name, conversation: escalation.conversationId }, 'escalation handler failed');
        throw new ImError('IM_ERR_ESCALATION_FAILED', `${handler.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const outcome: EscalationOutcome = { escalation, handledBy: handler?.name ?? null, result };
    await this.#ctx.events.publish('im.escalate', { ...escalation, handledBy: outcome.handledBy, result });
    this.#push.escalation(escalation.site, escalation.participants, outcome);
    return outcome;
  }
}

/** Only the documented fields, as strings, so a handler cannot push arbitrary data to browsers. */
function resultOf(raw: unknown): EscalationResult {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const out: EscalationResult = {};
  for (const key of ['address', 'url', 'detail'] as const) if (typeof r[key] === 'string') out[key] = (r[key] as string).slice(0, 2000);
  return out;
}
