/**
 * Messages from the network: stamp Via, absorb retransmissions, match
 * CANCEL and ACK, detect loops and merged requests, then hand requests to
 * a dialog's app, a proxied dialog's next hop, or an app routing the method.
 */
import { detach } from './own-string.ts';
import { createHash } from 'node:crypto';
import { parseMessage, parseVia, formatVia, viaParam, parseCSeq, tagOf, SipParseError, type SipMessage } from './message/index.ts';
import type { InboundMessage, Flow } from './transport/types.ts';
import type { EngineState } from './engine-state.ts';
import { MAGIC_COOKIE, buildResponse, newTag } from './sip-builder.ts';
import type { ServerTransaction } from './transaction/server-transaction.ts';
import { deliverToApp, handleCancel, deliverInDialog } from './inbound-dispatch.ts';
import { forwardInDialog } from './proxy/proxy-session.ts';

export interface InboundOptions {
  maxMessageSize: number;
}

export function handleInbound(s: EngineState, ev: InboundMessage, opts: InboundOptions): void {
  let msg: SipMessage;
  try {
    msg = parseMessage(ev.data, { maxMessageSize: opts.maxMessageSize });
  } catch (err) {
    if (err instanceof SipParseError) answerBadMessage(s, err, ev.flow);
    else s.log.warn({ err }, 'unexpected parser failure');
    return;
  }
  if (msg.isRequest) onRequest(s, msg, ev.flow);
  else onResponse(s, msg, ev.flow);
}

function answerBadMessage(s: EngineState, err: SipParseError, flow: Flow): void {
  s.log.debug({ code: err.code, from: `${flow.remoteAddress}:${flow.remotePort}` }, err.message);
  const p = err.partial;
  if (!p || !p.isRequest || p.method === 'ACK') return;
  if (!p.get('via') || !p.get('from') || !p.get('to') || !p.get('call-id') || !p.get('cseq')) return;
  try {
    parseVia(p.getAll('via')[0]!);
  } catch {
    return;
  }
  s.sendStateless(p, flow, err.status, err.status === 400 ? `Bad Request - ${err.code}` : undefined);
}

/** RFC 3261 §17.2.3 key: branch + sent-by + method (ACK matches its INVITE). */
export function serverKey(req: SipMessage, viaText: string): string {
  const v = parseVia(viaText);
  const branch = viaParam(v, 'branch');
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (typeof branch === 'string' && branch.startsWith(MAGIC_COOKIE)) return detach(`${branch}|${v.host}:${v.port ?? ''}|${method}`);
  // RFC 2543 peers: no usable branch, so key on the dialog/transaction identifiers.
  return `legacy|${req.get('call-id')}|${tagOf(req.get('from') ?? '')}|${parseCSeq(req.get('cseq') ?? '0 X').seq}|${method}|${viaText}`;
}

function stampVia(req: SipMessage, flow: Flow): string | undefined {
  const top = req.getAll('via')[0];
  if (!top) return undefined;
  const v = parseVia(top);
  const params = v.params.filter(([k]) => k.toLowerCase() !== 'received' && k.toLowerCase() !== 'rport');
  const hadRport = v.params.some(([k]) => k.toLowerCase() === 'rport');
  if (v.host !== flow.remoteAddress || hadRport) params.push(['received', flow.remoteAddress]);
  if (hadRport) params.push(['rport', String(flow.remotePort)]);
  const stamped = formatVia({ ...v, params });
  req.removeFirst('via');
  req.prepend('Via', stamped);
  return stamped;
}

function onRequest(s: EngineState, req: SipMessage, flow: Flow): void {
  if (s.stopping) return;
  let key: string;
  try {
    const top = stampVia(req, flow);
    if (!top) return;
    key = serverKey(req, top);
  } catch (err) {
    s.log.debug({ err }, 'request with unusable Via dropped');
    return;
  }

  if (req.method === 'ACK') {
    const inv = s.serverByKey.get(key);
    if (inv && inv.state === 'completed') return inv.onAck();
    if (inv && inv.state === 'confirmed') return;
    return deliverInDialog(s, req, flow, undefined);
  }
  if (req.method === 'CANCEL') return handleCancel(s, req, flow, key);

  const existing = s.serverByKey.get(key);
  if (existing) return existing.onRetransmission();
  if (s.answerAgain(key)) return;

  const mf = req.get('max-forwards');
  if (mf !== undefined && Number(mf) <= 0 && req.method !== 'OPTIONS') return s.sendStateless(req, flow, 483);
  if (isLoop(s, req)) return s.sendStateless(req, flow, 482, 'Loop Detected');

  const toTag = tagOf(req.get('to') ?? '');
  let mk: string | undefined;
  if (!toTag) {
    // A BYE outside any dialog (sipp sends one after a 503 it did not expect): nothing can take it.
    if (req.method === 'BYE') return s.sendStateless(req, flow, 481, 'Call/Transaction Does Not Exist');
    // Past a bound, a new request is refused before it costs anything more (see OverloadLimits).
    const overloaded = s.overloadedBy(req.method);
    if (overloaded) return s.rejectOverloaded(req, flow, overloaded);
    mk = detach(`${req.get('call-id')}|${tagOf(req.get('from') ?? '')}|${req.get('cseq')}`);
    const prior = s.merged.get(mk);
    if (prior && prior !== key && s.hasServerTxn(prior)) return s.sendStateless(req, flow, 482, 'Merged Request');
    // Held as long as the transaction is (it clears the entry when it ends).
    s.merged.set(mk, key);
  }

  const txn: ServerTransaction = s.createServerTxn(key, req, flow);
  if (mk) txn.mergeKey = mk;
  if (req.method === 'INVITE') txn.respond(buildResponse(req, 100));
  const popped = popOwnRoutes(s, req);

  if (toTag) {
    // The To tag of one of our answers that made no dialog (a 503 under overload, a 202 to a MESSAGE): sipp, for one,
    // ends such a "call" with a BYE.
    // No dialog has that tag, and forwarding the request to its Request-URI would only cost a DNS lookup and a timeout.
    if (toTag.startsWith(s.noDialogTagPrefix)) return void txn.respond(buildResponse(req, 481, 'Call/Transaction Does Not Exist', toTag));
    const d = s.dialogs.find(req.get('call-id') ?? '', toTag, tagOf(req.get('from') ?? '') ?? '');
    if (d) return deliverInDialog(s, req, flow, txn, d);
    // Record-routed through us (our Route was on top) or loose-routed onwards: proxy it without the app.
    // Sent to us as an outbound proxy for another target: forward it, unless an app routes the method
    // (a location service resolving a domain we serve, for instance); for our own URI an app answers.
    const elsewhere = !s.local.isSelfUri(req.uri);
    if (popped > 0 || req.getAll('route').length || (elsewhere && !s.routes.has(req.method))) return forwardInDialog(s, req, flow, txn);
    // A BYE for no dialog of ours (e.g. a client ending a call that never existed after a 503): no app has it either.
    // Handed to an app it would go unanswered, and under load such BYEs pile up as requests in progress.
    if (req.method === 'BYE') return void txn.respond(buildResponse(req, 481, 'Call/Transaction Does Not Exist', newTag()));
  }
  deliverToApp(s, req, flow, txn);
}

/** Remove Route entries that name this engine (loose routing, RFC 3261 §16.4). */
export function popOwnRoutes(s: EngineState, req: SipMessage): number {
  let popped = 0;
  for (;;) {
    const first = req.getAll('route')[0];
    if (!first || !s.local.isSelfUri(first)) return popped;
    req.removeFirst('route');
    popped++;
  }
}

/** Our branch for a forwarded request: cookie + engine secret + hash of what identifies it (RFC 3261 §16.6 step 8). */
export function loopBranch(s: EngineState, req: SipMessage, salt = ''): string {
  return `${MAGIC_COOKIE}${s.branchSecret}${loopHash(req)}${salt}`;
}

function loopHash(req: SipMessage): string {
  const h = createHash('sha1');
  h.update(`${req.uri}|${req.get('call-id')}|${tagOf(req.get('from') ?? '')}|${tagOf(req.get('to') ?? '') ?? ''}|${req.get('cseq')}`);
  for (const r of req.getAll('proxy-require')) h.update(r);
  return h.digest('hex').slice(0, 12);
}

/** A Via of ours whose branch carries the hash of this very request means it came back unchanged: a loop. */
function isLoop(s: EngineState, req: SipMessage): boolean {
  const vias = req.getAll('via');
  if (vias.length < 2) return false;
  const mine = `${MAGIC_COOKIE}${s.branchSecret}`;
  for (const text of vias.slice(1)) {
    try {
      const b = viaParam(parseVia(text), 'branch');
      if (typeof b === 'string' && b.startsWith(mine) && b.slice(mine.length, mine.length + 12) === loopHash(req)) return true;
    } catch {
      /* a foreign malformed Via deeper in the stack is not ours */
    }
  }
  return false;
}

function onResponse(s: EngineState, res: SipMessage, flow: Flow): void {
  const top = res.getAll('via')[0];
  if (!top) return;
  let key: string;
  try {
    const branch = viaParam(parseVia(top), 'branch');
    const { method } = parseCSeq(res.get('cseq') ?? '');
    key = `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
  } catch {
    return;
  }
  const txn = s.clientByKey.get(key);
  if (txn) return txn.onResponse(res, flow);
  // A 2xx retransmitted after its transaction ended: resend the ACK the app sent.
  if (res.status >= 200 && res.status < 300) {
    const d = s.dialogs.find(res.get('call-id') ?? '', tagOf(res.get('from') ?? '') ?? '', tagOf(res.get('to') ?? '') ?? '');
    if (d?.lastAck) s.send({ transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, flowId: flow.id }, d.lastAck).catch(() => {});
  }
}
