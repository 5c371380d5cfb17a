/**
 * After a restart: tell every subscriber of the last run that its
 * subscription ended (NOTIFY `terminated;reason=deactivated` in the stored
 * dialog), so it subscribes anew at once (RFC 6665 §4.1.3). Sent to the
 * watcher's registered endpoints through the core (local users with a
 * registration); the endpoint that holds the dialog accepts it, others
 * answer 481. Everyone else learns it at the next refresh (481).
 */
import type { SipSendResult } from '@switchboard/sdk';
import type { PresenceCore } from '../presence-core.ts';
import type { DialogRecord } from './journal.ts';

/** Higher than any CSeq a dialog of the last run used (NOTIFYs count up from 1). */
const RESTART_CSEQ = '1000000';
const RETRY_MS = 250;
const GIVE_UP_MS = 20_000;

export interface RestartOutcome {
  /** Subscribers that took the final NOTIFY (2xx). */
  ended: number;
  /** Stored dialogs that could not be reached (no registration, foreign watcher, expired, or refused). */
  unreached: number;
}

export async function endStoredSubscriptions(core: PresenceCore, records: DialogRecord[]): Promise<RestartOutcome> {
  const { ctx } = core;
  const now = Date.now() / 1000;
  const sites = new Set(ctx.sites.list().map((s) => s.domain));
  let ended = 0;
  let unreached = 0;
  const started = Date.now();
  const stopped = () => core.closed;
  await Promise.all(records.map(async (r) => {
    const at = r.watcher?.lastIndexOf('@') ?? -1;
    const wSite = at > 0 ? r.watcher!.slice(at + 1) : '';
    const wUser = at > 0 ? r.watcher!.slice(0, at) : '';
    if (r.expiresAt <= now || !sites.has(wSite) || ctx.sip.endpoints(wSite, wUser).length === 0) {
      unreached++;
      return;
    }
    // The core's SIP connection comes up after plugins are set up: until then nothing is sent.
    for (;;) {
      if (stopped()) return;
      const results = await ctx.sip.sendToUser(wSite, wUser, {
        method: 'NOTIFY',
        headers: {
          From: r.localParty,
          To: r.remoteParty,
          'Call-ID': r.callId,
          CSeq: RESTART_CSEQ,
          Event: r.event,
          'Subscription-State': 'terminated;reason=deactivated',
        },
      }).catch(() => [] as SipSendResult[]); // the SIP connection is still coming up
      if (results.length > 0) {
        if (results.some((x) => x.status >= 200 && x.status < 300)) ended++;
        else unreached++;
        return;
      }
      if (Date.now() - started > GIVE_UP_MS || ctx.sip.endpoints(wSite, wUser).length === 0) {
        unreached++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    }
  }));
  return { ended, unreached };
}
