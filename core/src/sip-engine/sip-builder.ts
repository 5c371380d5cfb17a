/** Small constructors for the messages the engine itself must build (RFC 3261 §8.2.6, §17.1.1.3, §9.1). */
import { randomBytes } from 'node:crypto';
import { SipMessage } from './message/index.ts';

export const MAGIC_COOKIE = 'z9hG4bK';

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  489: 'Bad Event', 491: 'Request Pending', 500: 'Server Internal Error', 501: 'Not Implemented',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Session Progress' : status < 300 ? 'OK' : 'Error');
}

/**
 * Tags, branches and Call-IDs stay cryptographically random, but are cut
 * from a pool filled 4 KiB at a time: one randomBytes call per token was
 * a measurable share of the engine's CPU per relayed message.
 */
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolAt = 0;

export function randomToken(bytes = 8): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('hex');
  if (poolAt + bytes > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const token = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return token;
}

export function newBranch(): string {
  return MAGIC_COOKIE + randomToken(10);
}

export function newTag(): string {
  return randomToken(6);
}

export function newCallId(): string {
  return randomToken(16);
}

/**
 * Headers (full and compact names) a response takes from its request, or the
 * engine writes itself: an app's or the host's own copies of them are ignored.
 */
export const HEADERS_FROM_REQUEST: ReadonlySet<string> = new Set(['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'content-length', 'l']);

/** A response to `req` copying Via, From, To, Call-ID and CSeq (§8.2.6.2). */
export function buildResponse(req: SipMessage, status: number, reason?: string, toTag?: string): SipMessage {
  const res = SipMessage.response(status, reason ?? reasonPhrase(status));
  for (const h of req.headers) {
    const n = h.name.toLowerCase();
    if (n === 'via' || n === 'v' || n === 'from' || n === 'f' || n === 'call-id' || n === 'i' || n === 'cseq') {
      res.headers.push({ name: h.name, value: h.value });
    } else if (n === 'to' || n === 't') {
      const hasTag = /;\s*tag\s*=/i.test(h.value);
      res.headers.push({ name: h.name, value: toTag && !hasTag && status > 100 ? `${h.value};tag=${toTag}` : h.value });
    }
  }
  return res;
}

/** ACK for a non-2xx final response: same branch, Request-URI, Call-ID, From and Route; To from the response (§17.1.1.3). */
export function buildNon2xxAck(invite: SipMessage, res: SipMessage): SipMessage {
  const ack = SipMessage.request('ACK', invite.uri);
  const via = invite.getAll('via')[0];
  if (via) ack.append('Via', via);
  ack.append('Max-Forwards', '70');
  for (const name of ['From', 'Call-ID']) {
    const v = invite.get(name);
    if (v) ack.append(name, v);
  }
  ack.append('To', res.get('to') ?? invite.get('to') ?? '');
  const cseq = (invite.get('cseq') ?? '1 INVITE').trim().split(/\s+/)[0];
  ack.append('CSeq', `${cseq} ACK`);
  for (const r of invite.getRaw('route')) ack.append('Route', r);
  return ack;
}

/** CANCEL for a pending request (§9.1): same Request-URI, top Via, Call-ID, From, To, Route and CSeq number. */
export function buildCancel(req: SipMessage, extra: Array<{ name: string; value: string }> = []): SipMessage {
  const cancel = SipMessage.request('CANCEL', req.uri);
  const via = req.getAll('via')[0];
  if (via) cancel.append('Via', via);
  cancel.append('Max-Forwards', '70');
  for (const name of ['From', 'To', 'Call-ID']) {
    const v = req.get(name);
    if (v) cancel.append(name, v);
  }
  const cseq = (req.get('cseq') ?? '1 INVITE').trim().split(/\s+/)[0];
  cancel.append('CSeq', `${cseq} CANCEL`);
  for (const r of req.getRaw('route')) cancel.append('Route', r);
  for (const h of extra) cancel.append(h.name, h.value);
  return cancel;
}
