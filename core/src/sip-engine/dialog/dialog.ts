/**
 * One SIP dialog the engine is a user agent in (RFC 3261 §12), on behalf of
 * the app connection that created it.
 */
import type { Flow, TransportName } from '../transport/types.ts';

export type DialogRole = 'uac' | 'uas';

export interface Dialog {
  /** drachtio dialog id: `<Call-ID>;from-tag=<From tag of the creating request>`. */
  id: string;
  role: DialogRole;
  method: 'INVITE' | 'SUBSCRIBE' | 'REFER';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Header values (with tags) used as From / To of requests we send in the dialog. */
  localParty: string;
  remoteParty: string;
  remoteTarget: string;
  /** Route set, in the order requests we send must carry it. */
  routeSet: string[];
  localSeq: number;
  remoteSeq: number;
  /** CSeq number of the INVITE whose 2xx created (or last refreshed) the dialog: the 2xx ACK reuses it. */
  inviteSeq: number;
  /** The connection a request in this dialog last arrived on; used when the target is not routable (WS, NAT). */
  flow?: Flow;
  transport: TransportName;
  /** Opaque: the app connection that owns the dialog. */
  owner: unknown;
  /** Last ACK sent for a 2xx, resent when the 2xx is retransmitted (UAC). */
  lastAck?: Buffer;
  /** The 2xx a UAS retransmits until its ACK arrives. */
  pending2xx?: { data: Buffer; timer?: NodeJS.Timeout; deadline?: NodeJS.Timeout; cseq: number };
  createdAt: number;
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}
