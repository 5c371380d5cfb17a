/**
 * Checks every SUBSCRIBE goes through, single-user or list alike: what the
 * subscriber accepts, and the expiry it may have. Each answers the request
 * itself when it refuses, so callers just return.
 */
import type { SipRequest, SipResponse } from '@switchboard/sdk';
import type { PresenceConfig } from '../config.ts';
import { grantExpires } from '../presence-core.ts';
import { expiresHeader, sendWithReason } from './sip-util.ts';

/** True when there is no Accept or it names one of `types`; otherwise answers 406 offering `offer`. */
export function acceptsOrRefuses(req: SipRequest, res: SipResponse, types: readonly string[], offer: string): boolean {
  const accept = req.get('Accept');
  if (!accept || accept.split(',').some((t) => types.includes(t.split(';')[0]!.trim().toLowerCase()))) return true;
  res.send(406, { headers: { Accept: offer } });
  return false;
}

/** The expiry granted (0 ends the subscription), or undefined after answering 400 (bad Expires) or 423 (too brief). */
export function grantedOrRefused(req: SipRequest, res: SipResponse, config: PresenceConfig): number | undefined {
  const requested = expiresHeader(req);
  if (Number.isNaN(requested)) {
    sendWithReason(res, 400, 'Bad Expires');
    return undefined;
  }
  const expires = grantExpires(config, requested);
  if (expires === undefined) res.send(423, { headers: { 'Min-Expires': String(config.minExpires) } });
  return expires;
}
