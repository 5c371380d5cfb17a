/** Building dialogs from the messages that create them (RFC 3261 §12.1) and requests inside them (§12.2.1.1). */
import { parseNameAddr, parseCSeq, tagOf, SipMessage } from '../message/index.ts';
import type { Flow } from '../transport/types.ts';
import type { Dialog } from './dialog.ts';
import { ownCopy } from '../own-string.ts';

function contactUri(msg: SipMessage): string {
  const c = msg.getAll('contact')[0];
  if (!c) return '';
  try {
    return ownCopy(parseNameAddr(c).uri);
  } catch {
    return '';
  }
}

/** Record-Route values, each a string of its own (a dialog outlives the message: see ownCopy). */
function routes(msg: SipMessage): string[] {
  return msg.getAll('record-route').map(ownCopy);
}

export function dialogMethod(method: string): Dialog['method'] {
  return method === 'SUBSCRIBE' ? 'SUBSCRIBE' : method === 'REFER' ? 'REFER' : 'INVITE';
}

/** UAS side: from the request we received and the response we sent. */
export function uasDialog(req: SipMessage, res: SipMessage, flow: Flow, owner: unknown): Dialog {
  const callId = ownCopy(req.get('call-id') ?? '');
  const fromTag = ownCopy(tagOf(req.get('from') ?? '') ?? '');
  return {
    id: ownCopy(`${callId};from-tag=${fromTag}`),
    role: 'uas',
    method: dialogMethod(req.method),
    callId,
    localTag: ownCopy(tagOf(res.get('to') ?? '') ?? ''),
    remoteTag: fromTag,
    localParty: ownCopy(res.get('to') ?? ''),
    remoteParty: ownCopy(req.get('from') ?? ''),
    remoteTarget: contactUri(req),
    routeSet: routes(req),
    localSeq: 0,
    remoteSeq: parseCSeq(req.get('cseq') ?? '0 X').seq,
    inviteSeq: parseCSeq(req.get('cseq') ?? '0 X').seq,
    flow,
    transport: flow.transport,
    owner,
    createdAt: Date.now(),
  };
}

/** UAC side: from the request we sent and a response (1xx with tag, or 2xx) we received. */
export function uacDialog(req: SipMessage, res: SipMessage, flow: Flow | undefined, owner: unknown): Dialog {
  const callId = ownCopy(req.get('call-id') ?? '');
  const fromTag = ownCopy(tagOf(req.get('from') ?? '') ?? '');
  const seq = parseCSeq(req.get('cseq') ?? '1 X').seq;
  return {
    id: ownCopy(`${callId};from-tag=${fromTag}`),
    role: 'uac',
    method: dialogMethod(req.method),
    callId,
    localTag: fromTag,
    remoteTag: ownCopy(tagOf(res.get('to') ?? '') ?? ''),
    localParty: ownCopy(req.get('from') ?? ''),
    remoteParty: ownCopy(res.get('to') ?? ''),
    remoteTarget: contactUri(res) || ownCopy(req.uri),
    routeSet: routes(res).reverse(),
    localSeq: seq,
    remoteSeq: 0,
    inviteSeq: seq,
    transport: flow?.transport ?? 'udp',
    ...(flow ? { flow } : {}),
    owner,
    createdAt: Date.now(),
  };
}

/** Refresh target and route set from a 2xx that confirms an early dialog. */
export function confirmUac(d: Dialog, res: SipMessage): void {
  const target = contactUri(res);
  if (target) d.remoteTarget = target;
  d.routeSet = routes(res).reverse();
  d.remoteParty = ownCopy(res.get('to') ?? d.remoteParty);
  d.remoteTag = ownCopy(tagOf(d.remoteParty) ?? d.remoteTag);
}

const CORE_HEADERS = new Set(['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'content-length', 'l', 'route', 'max-forwards']);

/**
 * A request inside the dialog: Request-URI, Route, From/To, Call-ID and
 * CSeq from dialog state; everything else (and the body) from the app.
 */
export function inDialogRequest(d: Dialog, method: string, app: SipMessage): SipMessage {
  const req = SipMessage.request(method, d.remoteTarget);
  let routes = d.routeSet;
  const first = routes[0];
  if (first && !/;\s*lr\b/i.test(first)) {
    // Strict router (RFC 3261 §12.2.1.1): it becomes the Request-URI and the target goes last.
    req.uri = parseNameAddr(first).uri;
    routes = [...routes.slice(1), `<${d.remoteTarget}>`];
  }
  req.append('Max-Forwards', app.get('max-forwards') ?? '70');
  req.append('From', d.localParty);
  req.append('To', d.remoteParty);
  req.append('Call-ID', d.callId);
  const seq = method === 'ACK' ? d.inviteSeq : method === 'CANCEL' ? d.localSeq : ++d.localSeq;
  req.append('CSeq', `${seq} ${method}`);
  for (const r of routes) req.append('Route', r);
  for (const h of app.headers) if (!CORE_HEADERS.has(h.name.toLowerCase())) req.append(h.name, h.value);
  req.body = app.body;
  return req;
}
