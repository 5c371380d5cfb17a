/**
 * The MESSAGE handler in front of the core's location routing. Handles
 * out-of-dialog MESSAGEs from local users to local users (pager mode) and to
 * conversation addresses; anything else (bots, unknown senders, in-dialog
 * requests) passes to the next plugin and then the core.
 */
import type { PluginContext, SipRequest, SipResponse } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import { Conversations, CONFERENCE_PREFIX } from './conversations.ts';
import { ImError, type ImErrorCode } from './errors.ts';
import type { Messenger } from './messenger.ts';
import { directoryOf } from './directory-cache.ts';
import { mayInterrupt } from './presence-gate.ts';
import { pairId } from './history.ts';
import { IS_COMPOSING, parseIsComposing } from './is-composing.ts';
import type { LivePush } from './live-push.ts';

export { IS_COMPOSING } from './is-composing.ts';

/** SIP answer for each refusal. */
const SIP_STATUS: Partial<Record<ImErrorCode, [number, string]>> = {
  IM_ERR_BLOCKED: [403, 'Forbidden - Blocked By Filter'],
  IM_ERR_RATE_LIMITED: [403, 'Forbidden - Rate Limit'],
  IM_ERR_TOO_LARGE: [413, 'Request Entity Too Large'],
  IM_ERR_UNAVAILABLE: [480, 'Temporarily Unavailable'],
  IM_ERR_UNKNOWN_USER: [404, 'Not Found'],
  IM_ERR_CONVERSATION_NOT_FOUND: [404, 'Not Found'],
  IM_ERR_NOT_A_MEMBER: [403, 'Forbidden - Not A Participant'],
  IM_ERR_CONVERSATION_FULL: [403, 'Forbidden - Conversation Full'],
};

function userPartOf(uri: string | undefined): string | undefined {
  const m = /^sips?:([^@;>]+)@/i.exec(uri ?? '');
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!).toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The local user who sent `req`: the one the core authenticated, else (on a
 * site that does not challenge MESSAGE) the From user of this site.
 */
async function senderOf(ctx: PluginContext<ImConfig>, req: SipRequest, site: string): Promise<string | undefined> {
  const authenticated = req.locals.user as { username?: string; site?: string } | undefined;
  if (authenticated?.username) return authenticated.site === site ? authenticated.username : undefined;
  let from: string | undefined;
  try {
    from = req.getParsedHeader('From').uri;
  } catch {
    return undefined;
  }
  const host = /^sips?:[^@]+@([^;>:]+)/i.exec(from ?? '')?.[1]?.toLowerCase();
  if (host !== site) return undefined;
  const user = await directoryOf(ctx).findByAddress(site, userPartOf(from) ?? '');
  return user?.enabled ? user.username : undefined;
}

function refuse(res: SipResponse, site: string, err: unknown): void {
  if (!(err instanceof ImError)) throw err;
  const [status, reason] = SIP_STATUS[err.code] ?? [500, 'Server Internal Error'];
  // RFC 3261 Warning 399: free text a client can show the sender.
  res.send(status, reason, { headers: { Warning: `399 ${site} "${err.message.replace(/["\\\r\n]/g, '')}"` } });
}

export function messageHandler(ctx: PluginContext<ImConfig>, messenger: Messenger, conversations: Conversations, push: LivePush) {
  return async (req: SipRequest, res: SipResponse, next: (err?: unknown) => void): Promise<void> => {
    const site = req.locals.site;
    const target = userPartOf(req.uri);
    const inDialog = /;\s*tag\s*=/i.test(req.get('To') ?? '');
    if (!target || inDialog) return next();
    const contentType = (req.get('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
    const body = String(req.body ?? '');

    if (target.startsWith(CONFERENCE_PREFIX)) {
      const id = Conversations.idOf(target);
      const sender = await senderOf(ctx, req, site);
      if (!id) return next();
      if (!sender) {
        res.send(403, 'Forbidden - Not A Participant', {});
        return;
      }
      if (contentType === IS_COMPOSING) {
        const { state, refresh } = parseIsComposing(body);
        try {
          await conversations.typing(site, id, sender, state, 'sip', refresh);
          res.send(200);
        } catch (err) {
          refuse(res, site, err);
        }
        return;
      }
      try {
        await conversations.post(site, id, sender, contentType, body, 'sip');
        res.send(200);
      } catch (err) {
        refuse(res, site, err);
      }
      return;
    }

    const [recipient, sender] = await Promise.all([directoryOf(ctx).findByAddress(site, target), senderOf(ctx, req, site)]);
    if (!recipient || !recipient.enabled || !sender) return next();

    if (contentType === IS_COMPOSING) {
      // Typing indications are live only: relayed to the endpoints there are, never stored.
      if (!(await mayInterrupt(ctx, site, sender, recipient.username))) {
        res.send(480, 'Temporarily Unavailable', {});
        return;
      }
      const { state, refresh } = parseIsComposing(body);
      const onWeb = push.typing(site, [recipient.username], { conversationId: pairId(sender, recipient.username), from: sender, state, ...(refresh ? { refresh } : {}), via: 'sip' });
      if (ctx.sip.endpoints(site, recipient.username).length || !onWeb) {
        await ctx.sip.routeToUser(req, res, recipient.username);
      } else {
        res.send(200);
      }
      return;
    }

    // Endpoints may take long to answer; a 100 tells the core's handler deadline and the sender we are at it.
    const trying = setTimeout(() => {
      if (!res.finalResponseSent) res.send(100);
    }, 1000);
    try {
      const outcome = await messenger.send({ site, sender, recipient: recipient.username, contentType, body, via: 'sip' });
      // 202: accepted for later delivery (RFC 3428 §7).
      res.send(outcome.status === 'delivered' ? 200 : 202);
    } catch (err) {
      refuse(res, site, err);
    } finally {
      clearTimeout(trying);
    }
  };
}
