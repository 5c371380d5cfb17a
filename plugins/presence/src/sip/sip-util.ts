/** Small SIP helpers shared by the PUBLISH and SUBSCRIBE handlers. */
import type { PluginDirectory, SipRequest, SipResponse } from '@switchboard/sdk';
import type { Watcher } from '../access-store.ts';

/** The event package of an Event header, without parameters (`presence;id=1` → `presence`). */
export function eventPackage(header: string | undefined): string | undefined {
  const name = header?.split(';')[0]?.trim().toLowerCase();
  return name || undefined;
}

/** The Expires header as a number; NaN when present but not a non-negative integer. */
export function expiresHeader(req: SipRequest): number | undefined {
  const raw = req.get('Expires');
  if (raw === undefined || raw === '') return undefined;
  return /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : NaN;
}

/** user and host of a SIP URI (`sip:alice@example.com;transport=udp`). */
export function userHost(uri: string | undefined): { user: string; host: string } | undefined {
  const m = /^sips?:([^@;>]+)@([^;>:?]+)/i.exec(uri ?? '');
  return m ? { user: decodeURIComponent(m[1]!).toLowerCase(), host: m[2]!.toLowerCase() } : undefined;
}

/**
 * Who sent the request. The core's authenticated user when the site
 * challenges the method; otherwise the From header, resolved through the
 * directory when its host is a site of this host (aliases and numbers reach
 * the user). Sites that need more than the From's word turn on challenges.
 */
export async function requesterOf(req: SipRequest, directory: Pick<PluginDirectory, 'findByAddress'>, isLocal: (site: string) => boolean): Promise<{ watcher: Watcher; uri: string }> {
  const authenticated = req.locals.user as { username?: string; site?: string } | undefined;
  if (authenticated?.username && authenticated.site) {
    const key = `${authenticated.username}@${authenticated.site}`.toLowerCase();
    return { watcher: { key }, uri: `sip:${key}` };
  }
  let fromUri: string | undefined;
  try {
    fromUri = req.getParsedHeader('From').uri;
  } catch {
    fromUri = undefined;
  }
  const from = userHost(fromUri);
  if (!from) return { watcher: {}, uri: fromUri ?? 'anonymous' };
  if (isLocal(from.host)) {
    const user = await directory.findByAddress(from.host, from.user);
    if (user?.enabled !== false && user) return { watcher: { key: `${user.username}@${from.host}` }, uri: `sip:${user.username}@${from.host}` };
    // Claims a site of ours but is nobody there: no site-level trust, sees what the public sees.
    return { watcher: {}, uri: `sip:${from.user}@${from.host}` };
  }
  return { watcher: { key: `${from.user}@${from.host}` }, uri: `sip:${from.user}@${from.host}` };
}

/** Answer with a reason phrase (drachtio-srf accepts one; its typings do not say so). */
export function sendWithReason(res: SipResponse, status: number, reason: string): void {
  (res.send as unknown as (status: number, reason: string) => void).call(res, status, reason);
}
