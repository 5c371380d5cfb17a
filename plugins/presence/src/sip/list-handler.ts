/**
 * RFC 4662 resource list server: a SUBSCRIBE (Event: presence) to
 * `sip:<user>-contacts@<site>` with `Supported: eventlist` subscribes the
 * user to the presence of everyone on their server-stored contact list in
 * one dialog. NOTIFYs are multipart/related with an RLMI document and one
 * PIDF part per active resource: full state first (and after a refresh or
 * a change of the list), then only what changed. Each resource is filtered
 * by the level its user gave the list's owner, as single subscriptions are.
 * Only the owner may subscribe to their list; phone-number contacts have no
 * presence and are left out; users of other domains are listed as
 * terminated (noresource): this server does not subscribe elsewhere.
 */
import type { SipRequest, SipResponse } from '@switchboard/sdk';
import { RLMI_CONTENT_TYPE } from '../pidf/rlmi.ts';
import type { PresenceCore } from '../presence-core.ts';
import { accept, dialogRecord, srfOf } from './subscribe-handler.ts';
import { requesterOf, sendWithReason, userHost } from './sip-util.ts';
import { acceptsOrRefuses, grantedOrRefused } from './subscribe-checks.ts';

const LIST_SUFFIX = '-contacts';

/** `sip:alice-contacts@site` → `alice`, when no user of the site has that address. */
async function listOwnerOf(core: PresenceCore, site: string, uri: string): Promise<string | undefined> {
  const target = userHost(uri);
  if (!target || !target.user.endsWith(LIST_SUFFIX) || target.user.length <= LIST_SUFFIX.length) return undefined;
  if (await core.directory.findByAddress(site, target.user)) return undefined;
  return target.user.slice(0, -LIST_SUFFIX.length);
}

export async function isListTarget(core: PresenceCore, site: string, uri: string): Promise<boolean> {
  return (await listOwnerOf(core, site, uri)) !== undefined;
}

export function listUri(site: string, owner: string): string {
  return `sip:${owner}${LIST_SUFFIX}@${site}`;
}

function supportsEventlist(req: SipRequest): boolean {
  const values = [req.get('Supported'), req.get('k')].filter((v): v is string => typeof v === 'string');
  return values.some((v) => v.split(',').some((t) => t.trim().toLowerCase() === 'eventlist'));
}

export async function subscribeList(core: PresenceCore, req: SipRequest, res: SipResponse): Promise<void> {
  const { ctx } = core;
  const site = req.locals.site;
  const config = ctx.config(site);
  if (!supportsEventlist(req)) {
    // RFC 4662 §5.1: the subscriber must say it understands lists.
    res.send(421, { headers: { Require: 'eventlist' } });
    return;
  }
  if (!acceptsOrRefuses(req, res, ['multipart/related', '*/*', 'multipart/*'], `multipart/related, ${RLMI_CONTENT_TYPE}, application/pidf+xml`)) return;
  const ownerName = (await listOwnerOf(core, site, req.uri))!;
  const owner = await core.directory.findByAddress(site, ownerName);
  if (!owner || owner.enabled === false) {
    res.send(404);
    return;
  }
  const expires = grantedOrRefused(req, res, config);
  if (expires === undefined) return;
  const { watcher } = await requesterOf(req, core.directory, (s) => ctx.sites.list().some((x) => x.domain === s));
  if (watcher.key !== `${owner.username}@${site}`) {
    sendWithReason(res, 403, 'Only The Owner May Subscribe To A Contact List');
    return;
  }
  if (expires > 0 && core.subscriptions.count(site, watcher.key) >= config.maxSubscriptionsPerUser) {
    sendWithReason(res, 403, 'Subscription Limit Reached');
    return;
  }
  const srf = srfOf(req);
  if (!srf || !req.has('Contact')) {
    if (srf) sendWithReason(res, 400, 'Missing Contact');
    else res.send(500);
    return;
  }
  const entries = await core.listEntries(site, owner.username);
  const accepted = await accept(res, 202, { Expires: String(expires), Require: 'eventlist' });
  if (!accepted) return;
  const record = expires > 0 ? dialogRecord(req, accepted, { site, presentity: owner.username, kind: 'list', watcher: watcher.key }) : undefined;
  const sub = core.subscriptions.add({
    site,
    presentity: owner.username,
    key: watcher.key,
    owner: watcher.key,
    event: req.get('Event') ?? 'presence',
    dialogId: accepted.dialogId,
    kind: 'list',
    list: { uri: listUri(site, owner.username), name: `Contacts of ${owner.displayName || owner.username}`, entries, version: 0, full: true, dirty: new Set() },
  }, expires, record);
  if (expires === 0) await core.subscriptions.terminate(sub, 'timeout');
}
