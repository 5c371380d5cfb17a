/**
 * PUBLISH for the presence event package (RFC 3903 with RFC 3856): the
 * Request-URI names the presentity, only that user may publish for it,
 * entity tags identify a device's publication for refresh, modify and
 * removal. A bad body (oversized, malformed, not PIDF) gets 400 and
 * changes nothing.
 */
import type { SipHandler } from '@switchboard/sdk';
import type { CustomState } from '../config.ts';
import { PresenceError } from '../errors.ts';
import { parsePidf, type DevicePresence } from '../pidf/parse.ts';
import { PIDF_CONTENT_TYPE } from '../pidf/namespaces.ts';
import { grantExpires, type PresenceCore } from '../presence-core.ts';
import { eventPackage, expiresHeader, requesterOf, sendWithReason, userHost } from './sip-util.ts';

export function publishHandler(core: PresenceCore): SipHandler {
  const { ctx } = core;
  return async (req, res) => {
    const site = req.locals.site;
    const config = ctx.config(site);
    if (eventPackage(req.get('Event')) !== 'presence') {
      res.send(489, { headers: { 'Allow-Events': 'presence' } });
      return;
    }
    const target = userHost(req.uri);
    const presentity = target ? await core.directory.findByAddress(site, target.user) : undefined;
    if (!presentity || presentity.enabled === false) {
      res.send(404);
      return;
    }
    const { watcher } = await requesterOf(req, core.directory, (s) => ctx.sites.list().some((x) => x.domain === s));
    if (watcher.key !== `${presentity.username}@${site}`) {
      sendWithReason(res, 403, 'Only The Presentity May Publish');
      return;
    }
    const requested = expiresHeader(req);
    if (Number.isNaN(requested)) {
      sendWithReason(res, 400, 'Bad Expires');
      return;
    }
    const expires = grantExpires(config, requested);
    if (expires === undefined) {
      res.send(423, { headers: { 'Min-Expires': String(config.minExpires) } });
      return;
    }
    const body = String(req.body ?? '');
    let doc: DevicePresence | undefined;
    if (body.length > 0) {
      const type = (req.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== PIDF_CONTENT_TYPE) {
        res.send(415, { headers: { Accept: PIDF_CONTENT_TYPE } });
        return;
      }
      try {
        doc = withSiteCustomState(parsePidf(body, { maxBytes: config.maxBodyBytes, maxTuples: 32, maxNoteLength: 1024 }), config.customStates);
      } catch (err) {
        if (!(err instanceof PresenceError)) throw err;
        sendWithReason(res, 400, reasonPhrase(err));
        return;
      }
    }
    const username = presentity.username;
    const ifMatch = req.get('SIP-If-Match')?.trim();
    if (ifMatch) {
      if (!core.publications.has(site, username, ifMatch)) {
        res.send(412);
        return;
      }
      if (expires === 0) {
        core.publications.remove(site, username, ifMatch);
        res.send(200, { headers: { Expires: '0' } });
        return;
      }
      const etag = core.publications.update(site, username, ifMatch, doc, expires)!;
      res.send(200, { headers: { 'SIP-ETag': etag, Expires: String(expires) } });
      return;
    }
    if (!doc || expires === 0) {
      // An initial PUBLISH must carry a state and a lifetime (RFC 3903 §6, step 4).
      sendWithReason(res, 400, doc ? 'Initial PUBLISH With Expires 0' : 'Missing Body');
      return;
    }
    const etag = core.publications.create(site, username, doc, expires, originOf(req, body));
    res.send(200, { headers: { 'SIP-ETag': etag, Expires: String(expires) } });
  };
}

/** One socket is one device (see publications.ts): transport, source, User-Agent and the document's tuple ids. */
function originOf(req: Parameters<SipHandler>[0], body: string): string {
  const tuples = [...body.matchAll(/<(?:[\w.-]+:)?tuple\b[^>]*?\bid\s*=\s*["']([^"']*)["']/g)].map((m) => m[1]).sort().join(',');
  const r = req as unknown as { protocol?: string; source_address?: string; source_port?: number };
  return `${r.protocol ?? ''}|${r.source_address ?? ''}|${r.source_port ?? ''}|${req.get('User-Agent') ?? ''}|${tuples}`;
}

/** A custom state must be one the site defines; it then composes as its base state. */
function withSiteCustomState(doc: DevicePresence, defined: readonly CustomState[]): DevicePresence {
  if (!doc.custom) return doc;
  const def = defined.find((c) => c.id === doc.custom);
  if (!def) {
    const { custom: _unknown, ...rest } = doc;
    return rest;
  }
  return { ...doc, state: def.base };
}

/** A short reason phrase from the error code (reason phrases are one line of text). */
function reasonPhrase(err: PresenceError): string {
  switch (err.code) {
    case 'PRESENCE_ERR_BODY_TOO_LARGE': return 'Body Too Large';
    case 'PRESENCE_ERR_MALFORMED_XML': return 'Malformed XML';
    case 'PRESENCE_ERR_NOT_PIDF': return 'Not A PIDF Document';
    case 'PRESENCE_ERR_UNKNOWN_STATE': return 'Unknown State';
    default: return 'Invalid PIDF';
  }
}
