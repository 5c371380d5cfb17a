/**
 * Messages browser clients send over the live channel: `im.typing` and
 * `im.send`. Each handler's result is the reply to the client; a refusal
 * is an ImError, which the host sends back as `{ ok: false, error: { code,
 * message } }`. The shapes are listed in README.md ("Live events").
 */
import type { LiveClient, PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import type { Conversations } from './conversations.ts';
import { ImError } from './errors.ts';
import { ESCALATION_MEDIA, type EscalationMedium, type EscalationOutcome, type Escalations } from './escalation.ts';
import { pairId, viewOf, type MessageView } from './history.ts';
import { IS_COMPOSING, isComposingXml } from './is-composing.ts';
import type { LivePush, TypingState } from './live-push.ts';
import { messageHeaders, type Messenger } from './messenger.ts';
import type { OfflineDelivery } from './offline.ts';
import { mayInterrupt } from './presence-gate.ts';

const USERNAME = /^[^\s@,]{1,255}$/;
const CONVERSATION = /^[0-9a-f]{12}$/;
const CONTENT_TYPES = ['text/plain', 'text/html'];

type Target = { to: string } | { conversation: string };

function bad(detail: string): ImError {
  return new ImError('IM_ERR_BAD_REQUEST', detail);
}

function objectOf(data: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw bad('data must be an object');
  const unknown = Object.keys(data).filter((k) => !allowed.includes(k));
  if (unknown.length) throw bad(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
  return data as Record<string, unknown>;
}

/** Exactly one of `to` (a username) and `conversation` (an id). */
function targetOf(d: Record<string, unknown>): Target {
  if ((d.to === undefined) === (d.conversation === undefined)) throw bad('give exactly one of "to" (a username) and "conversation" (an id)');
  if (d.to !== undefined) {
    if (typeof d.to !== 'string' || !USERNAME.test(d.to)) throw bad('"to" must be a username');
    return { to: d.to.toLowerCase() };
  }
  if (typeof d.conversation !== 'string' || !CONVERSATION.test(d.conversation)) throw bad('"conversation" must be a 12-digit hex id');
  return { conversation: d.conversation };
}

export function registerLiveHandlers(ctx: PluginContext<ImConfig>, deps: { messenger: Messenger; conversations: Conversations; push: LivePush; offline: OfflineDelivery; escalations: Escalations }): void {
  const { messenger, conversations, push, offline, escalations } = deps;

  async function recipientOf(site: string, to: string): Promise<string> {
    const user = await ctx.directory.findByAddress(site, to);
    if (!user || !user.enabled) throw new ImError('IM_ERR_UNKNOWN_USER', to);
    return user.username;
  }

  ctx.live.on('im.typing', async (data: unknown, client: LiveClient) => {
    const d = objectOf(data, ['to', 'conversation', 'state', 'refresh']);
    const target = targetOf(d);
    if (d.state !== undefined && d.state !== 'active' && d.state !== 'idle') throw bad('"state" must be "active" or "idle"');
    if (d.refresh !== undefined && (!Number.isInteger(d.refresh) || (d.refresh as number) < 1 || (d.refresh as number) > 3600)) throw bad('"refresh" must be whole seconds, 1 to 3600');
    const state = (d.state ?? 'active') as TypingState;
    const refresh = d.refresh as number | undefined;
    if ('conversation' in target) {
      return { sessions: await conversations.typing(client.site, target.conversation, client.username, state, 'live', refresh) };
    }
    const recipient = await recipientOf(client.site, target.to);
    if (!(await mayInterrupt(ctx, client.site, client.username, recipient))) throw new ImError('IM_ERR_UNAVAILABLE');
    const sessions = push.typing(client.site, [recipient], { conversationId: pairId(client.username, recipient), from: client.username, state, ...(refresh ? { refresh } : {}), via: 'live' });
    const endpoints = ctx.sip.endpoints(client.site, recipient).length;
    if (endpoints) {
      const headers = await messageHeaders(ctx, client.site, client.username, recipient, IS_COMPOSING);
      void ctx.sip.sendToUser(client.site, recipient, { method: 'MESSAGE', headers, body: isComposingXml(state, refresh) })
        .catch((err: unknown) => ctx.log.warn({ err, site: client.site, to: recipient }, 'isComposing to endpoints failed'));
    }
    if (!sessions && !endpoints) throw new ImError('IM_ERR_UNAVAILABLE', 'not signed in anywhere; typing is not stored');
    return { sessions, endpoints };
  });

  ctx.live.on('im.send', async (data: unknown, client: LiveClient): Promise<{ status: string; message: MessageView }> => {
    const d = objectOf(data, ['to', 'conversation', 'body', 'contentType']);
    const target = targetOf(d);
    if (typeof d.body !== 'string' || d.body.length === 0) throw bad('"body" must be a non-empty string');
    if (d.contentType !== undefined && !CONTENT_TYPES.includes(d.contentType as string)) throw bad(`"contentType" must be one of ${CONTENT_TYPES.join(', ')}`);
    const contentType = (d.contentType ?? 'text/plain') as string;
    if ('conversation' in target) {
      return { status: 'posted', message: await conversations.post(client.site, target.conversation, client.username, contentType, d.body, 'live') };
    }
    const recipient = await recipientOf(client.site, target.to);
    const outcome = await messenger.send({ site: client.site, sender: client.username, recipient, contentType, body: d.body, via: 'live' });
    return { status: outcome.status, message: viewOf(outcome.message) };
  });

  ctx.live.on('im.escalate', async (data: unknown, client: LiveClient): Promise<EscalationOutcome> => {
    const d = objectOf(data, ['to', 'conversation', 'medium']);
    const target = targetOf(d);
    if (!(ESCALATION_MEDIA as readonly unknown[]).includes(d.medium)) throw bad(`"medium" must be one of ${ESCALATION_MEDIA.join(', ')}`);
    const medium = d.medium as EscalationMedium;
    return 'conversation' in target
      ? escalations.conversation(client.site, target.conversation, client.username, medium)
      : escalations.pair(client.site, client.username, target.to, medium);
  });

  ctx.live.onPresence((client, online) => {
    if (!online) return;
    void offline.onSignIn(client.site, client.username, push)
      .catch((err: unknown) => ctx.log.warn({ err, site: client.site, user: client.username }, 'pushing stored messages failed'));
  });
}
