/**
 * SUBSCRIBE for the presence event package (RFC 3856 over RFC 6665).
 * Out-of-dialog SUBSCRIBEs create subscriptions: the 2xx makes the SIP
 * stack keep the dialog, and the plugin keeps a compact record of its own
 * (subscriptions.ts). SUBSCRIBEs inside such a dialog (refresh, unsubscribe)
 * arrive here too, with the stack's dialog id. Also serves presence.winfo
 * (RFC 3857) to the presentity itself. Other event packages pass on to the
 * next handler.
 *
 * Blocked watchers are politely blocked (RFC 3856 §6.6): accepted, and
 * shown Offline, so they cannot tell.
 */
import type { SipHandler, SipRequest, SipResponse } from '@switchboard/sdk';
import { PIDF_CONTENT_TYPE } from '../pidf/namespaces.ts';
import { WINFO_CONTENT_TYPE } from '../pidf/watcherinfo.ts';
import type { PresenceCore } from '../presence-core.ts';
import type { DialogRecord } from './journal.ts';
import { isListTarget, subscribeList } from './list-handler.ts';
import { eventPackage, expiresHeader, requesterOf, sendWithReason, userHost } from './sip-util.ts';
import { acceptsOrRefuses, grantedOrRefused } from './subscribe-checks.ts';
import { grantExpires } from '../presence-core.ts';

/** drachtio-srf attaches its Srf to each request it dispatches (Srf#dialog middleware); without it no dialog can be kept. */
export function srfOf(req: SipRequest): object | undefined {
  return (req as unknown as { srf?: object }).srf;
}

/** What the 2xx that established the dialog tells: the stack's dialog id and our To tag. */
export interface Accepted {
  dialogId: string;
  localTag: string;
}

/**
 * Answer 2xx (202 for a new subscription) and learn the dialog the stack made of it.
 * Undefined when the stack did not take the response or made no dialog.
 */
export function accept(res: SipResponse, status: number, headers: Record<string, string>): Promise<Accepted | undefined> {
  return new Promise((resolve) => {
    const send = res.send as unknown as (status: number, opts: unknown, cb: (err: unknown, sent?: { get(h: string): string | undefined }) => void) => void;
    send.call(res, status, { headers }, (err, sent) => {
      const dialogId = (res as unknown as { stackDialogId?: string }).stackDialogId;
      const localTag = /;\s*tag\s*=\s*([^;\s>]+)/i.exec(sent?.get('To') ?? '')?.[1];
      resolve(err || !dialogId || !localTag ? undefined : { dialogId, localTag });
    });
  });
}

export function subscribeHandler(core: PresenceCore): SipHandler {
  const { ctx } = core;
  return async (req, res, next) => {
    const pkg = eventPackage(req.get('Event'));
    if (pkg !== 'presence' && pkg !== 'presence.winfo') return next();
    const kind = pkg === 'presence' ? 'presence' : 'winfo';
    const contentType = kind === 'presence' ? PIDF_CONTENT_TYPE : WINFO_CONTENT_TYPE;
    const site = req.locals.site;
    const config = ctx.config(site);
    if (/;\s*tag\s*=/i.test(req.get('To') ?? '')) return inDialog(core, req, res, pkg);
    if (kind === 'presence' && (await isListTarget(core, site, req.uri))) return subscribeList(core, req, res);
    if (!acceptsOrRefuses(req, res, [contentType, '*/*', 'application/*'], contentType)) return;
    const target = userHost(req.uri);
    const presentity = target ? await core.directory.findByAddress(site, target.user) : undefined;
    if (!presentity || presentity.enabled === false) {
      res.send(404);
      return;
    }
    const expires = grantedOrRefused(req, res, config);
    if (expires === undefined) return;
    const { watcher, uri } = await requesterOf(req, core.directory, (s) => ctx.sites.list().some((x) => x.domain === s));
    const owner = watcher.key ?? uri;
    if (kind === 'winfo' && watcher.key !== `${presentity.username}@${site}`) {
      // Who watches a user is that user's business only.
      sendWithReason(res, 403, 'Only The Presentity May See Its Watchers');
      return;
    }
    if (expires > 0 && core.subscriptions.count(site, owner) >= config.maxSubscriptionsPerUser) {
      sendWithReason(res, 403, 'Subscription Limit Reached');
      return;
    }
    const srf = srfOf(req);
    if (!srf || !req.has('Contact')) {
      // No Contact: no remote target to NOTIFY (RFC 6665 §4.1.2).
      if (srf) sendWithReason(res, 400, 'Missing Contact');
      else res.send(500);
      return;
    }
    const accepted = await accept(res, 202, { Expires: String(expires) });
    if (!accepted) return;
    const record = expires > 0 ? dialogRecord(req, accepted, { site, presentity: presentity.username, kind, watcher: watcher.key ?? null }) : undefined;
    const sub = core.subscriptions.add({
      site,
      presentity: presentity.username,
      key: watcher.key,
      owner,
      event: req.get('Event') ?? 'presence',
      dialogId: accepted.dialogId,
      kind,
    }, expires, record);
    // A fetch (Expires: 0) gets the current state in a terminating NOTIFY (RFC 6665 §4.4.3).
    if (expires === 0) await core.subscriptions.terminate(sub, 'timeout');
  };
}

/**
 * A SUBSCRIBE inside a dialog (RFC 6665 §4.2.1.2): a refresh answers 200 and NOTIFYs,
 * `Expires: 0` answers 200 and ends the subscription with a final NOTIFY. A dialog the
 * plugin holds no subscription of this package in (ended, another package, or made by
 * a process before a restart) gets 481, so the client subscribes anew.
 */
function inDialog(core: PresenceCore, req: SipRequest, res: SipResponse, pkg: string): void {
  const stackDialogId = (req as unknown as { stackDialogId?: string }).stackDialogId;
  const sub = core.subscriptions.byDialog(stackDialogId);
  if (!sub || eventPackage(sub.event) !== pkg) {
    res.send(481);
    return;
  }
  const requested = expiresHeader(req);
  if (Number.isNaN(requested)) {
    sendWithReason(res, 400, 'Bad Expires');
    return;
  }
  const config = core.ctx.config(sub.site);
  const expires = grantExpires(config, requested);
  if (expires === undefined) {
    res.send(423, { headers: { 'Min-Expires': String(config.minExpires) } });
    return;
  }
  const require: Record<string, string> = sub.kind === 'list' ? { Require: 'eventlist' } : {};
  res.send(200, { headers: { Expires: String(expires), ...require } });
  if (expires === 0) void core.subscriptions.terminate(sub, 'timeout');
  else core.subscriptions.refresh(sub, expires);
}

/** What a restart needs to end the subscription: the dialog's identifiers and the subscriber's target. */
export function dialogRecord(req: SipRequest, accepted: Accepted, who: Pick<DialogRecord, 'site' | 'presentity' | 'kind' | 'watcher'>): DialogRecord | undefined {
  const { localTag, dialogId } = accepted;
  const callId = req.get('Call-ID');
  const from = req.get('From');
  let toUri: string | undefined;
  let target: string | undefined;
  try {
    toUri = req.getParsedHeader('To').uri;
    target = (req.getParsedHeader('Contact') as unknown as Array<{ uri: string }>)[0]?.uri;
  } catch {
    return undefined;
  }
  if (!localTag || !callId || !from || !toUri || !target) return undefined;
  const fits = [callId, from, toUri, target].every((v) => v.length <= 480) && dialogId.length <= 255;
  if (!fits) return undefined;
  return {
    ...who,
    dialog: dialogId,
    event: (req.get('Event') ?? 'presence').slice(0, 128),
    callId,
    localParty: `<${toUri}>;tag=${localTag}`,
    remoteParty: from,
    remoteTarget: target,
    expiresAt: 0,
  };
}
