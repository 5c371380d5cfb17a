/** Where an inbound request goes once the transaction layer has let it through. */
import { nextId } from './ids.ts';
import { parseNameAddr, tagOf, type SipMessage } from './message/index.ts';
import type { Flow } from './transport/types.ts';
import type { EngineState } from './engine-state.ts';
import type { ServerTransaction } from './transaction/server-transaction.ts';
import type { Dialog } from './dialog/dialog.ts';
import type { AppConnection } from './wire/app-connection.ts';
import { buildResponse, newTag } from './sip-builder.ts';
import { forwardInDialog, type ProxySession } from './proxy/proxy-session.ts';
import { popOwnRoutes } from './inbound.ts';
import { deliverToHost } from './host-requests.ts';
import { ownCopy } from './own-string.ts';

export type TxnOwner =
  | { kind: 'app'; conn: AppConnection; dialog?: Dialog }
  | { kind: 'proxy'; session: ProxySession }
  | { kind: 'host' };

export function ownerOf(txn: { owner?: unknown }): TxnOwner | undefined {
  return txn.owner as TxnOwner | undefined;
}

/** An out-of-dialog request: the host when it serves the method itself (host-requests.ts), else the next app that routes it. */
export function deliverToApp(s: EngineState, req: SipMessage, flow: Flow, txn: ServerTransaction): void {
  if (deliverToHost(s, req, flow, txn)) return;
  const conn = s.routes.pick(req.method);
  if (!conn) {
    s.log.debug({ method: req.method }, 'no app routes this method');
    txn.respond(buildResponse(req, 503, 'Service Unavailable', newTag()));
    return;
  }
  txn.owner = { kind: 'app', conn } satisfies TxnOwner;
  s.toApp(conn, 'network', req, flow, txn.id, '');
  if (req.method === 'INVITE') s.cdr('attempt', 'network', req);
}

/** CANCEL (RFC 3261 §9.2): 200 to the CANCEL; 487 to the INVITE unless it is final; tell the app or the proxy. */
export function handleCancel(s: EngineState, req: SipMessage, flow: Flow, cancelKey: string): void {
  const again = s.serverByKey.get(cancelKey);
  if (again) return again.onRetransmission();
  if (s.answerAgain(cancelKey)) return;
  const inv = s.serverByKey.get(cancelKey.replace(/\|CANCEL$/, '|INVITE'));
  if (!inv) return s.sendStateless(req, flow, 481);
  const ctx = s.createServerTxn(cancelKey, req, flow);
  ctx.respond(buildResponse(req, 200, 'OK', inv.localTag ?? (inv.localTag = newTag())));
  if (inv.finalStatus) return;
  const owner = ownerOf(inv);
  if (owner?.kind === 'proxy') return owner.session.cancelFromUpstream(req);
  inv.respond(buildResponse(inv.request, 487, 'Request Terminated', inv.localTag));
  if (owner?.kind === 'app') {
    s.toApp(owner.conn, 'network', req, flow, inv.id, '');
    s.cdr('stop', 'network', inv.request, 'call-canceled');
  }
}

/** A request inside a dialog this engine is a UA in (or an ACK, which has no transaction). */
export function deliverInDialog(s: EngineState, req: SipMessage, flow: Flow, txn: ServerTransaction | undefined, found?: Dialog): void {
  const callId = req.get('call-id') ?? '';
  const d = found ?? s.dialogs.find(callId, tagOf(req.get('to') ?? '') ?? '', tagOf(req.get('from') ?? '') ?? '');
  if (!txn) {
    // ACK: for a 2xx of ours it stops the retransmissions and goes to the app; otherwise it may belong to a proxied dialog.
    if (!d) {
      const popped = popOwnRoutes(s, req);
      if (popped > 0 || req.getAll('route').length || !s.local.isSelfUri(req.uri)) forwardInDialog(s, req, flow, undefined);
      return;
    }
    if (d.pending2xx) {
      clearTimeout(d.pending2xx.timer);
      clearTimeout(d.pending2xx.deadline);
      d.pending2xx = undefined;
    }
    const conn = d.owner as AppConnection;
    if (!conn.closed) s.toApp(conn, 'network', req, flow, nextId(), d.id);
    return;
  }
  if (!d) return void txn.respond(buildResponse(req, 481, undefined, newTag()));
  const conn = d.owner as AppConnection;
  if (conn.closed) return void txn.respond(buildResponse(req, 481, 'Dialog Owner Gone', newTag()));
  const seq = Number((req.get('cseq') ?? '0').trim().split(/\s+/)[0]);
  if (d.remoteSeq && seq < d.remoteSeq && req.method !== 'PRACK') {
    txn.respond(buildResponse(req, 500, 'Out Of Order CSeq', newTag()));
    return;
  }
  d.remoteSeq = seq;
  d.flow = flow;
  if (['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY'].includes(req.method)) {
    const contact = req.get('contact');
    if (contact) {
      try {
        d.remoteTarget = ownCopy(parseNameAddr(contact).uri);
      } catch {
        /* keep the old target */
      }
    }
  }
  txn.localTag = d.localTag;
  if (req.method === 'PRACK' && d.role === 'uas') {
    // Reliable provisional acknowledged (RFC 3262): the engine answers; the app is told.
    txn.respond(buildResponse(req, 200, 'OK', d.localTag));
  }
  txn.owner = { kind: 'app', conn, dialog: d } satisfies TxnOwner;
  s.toApp(conn, 'network', req, flow, txn.id, d.id);
}

/** An app disconnected: it routes nothing any more, and requests it was handling get 503 rather than silence. */
export function appGone(s: EngineState, conn: AppConnection): void {
  s.routes.removeConnection(conn);
  for (const txn of s.serverById.values()) {
    const owner = ownerOf(txn);
    if (owner?.kind === 'app' && owner.conn === conn && !txn.finalStatus) {
      txn.respond(buildResponse(txn.request, 503, 'Service Unavailable', txn.localTag ?? (txn.localTag = newTag())));
    }
  }
}
