/**
 * Responses an app sends to requests the engine delivered (`sip|txnId|…` +
 * a response). The engine completes them from the request, creates UAS
 * dialogs, retransmits 2xx to INVITE until the ACK (RFC 3261 §13.3.1.4) and,
 * when no ACK comes, ends the call with a BYE and tells the app.
 */
import { tagOf, type SipMessage } from './message/index.ts';
import type { EngineState } from './engine-state.ts';
import { RELIABLE } from './engine-state.ts';
import type { AppConnection, SipCommand } from './wire/app-connection.ts';
import { ownerOf } from './inbound-dispatch.ts';
import { uasDialog } from './dialog/dialog-factory.ts';
import type { Dialog } from './dialog/dialog.ts';
import { buildResponse, HEADERS_FROM_REQUEST, newTag, reasonPhrase } from './sip-builder.ts';
import { engineBye } from './app-requests.ts';
import { Backoff, timeout64 } from './transaction/timers.ts';

const DIALOG_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

export function responseFromApp(s: EngineState, conn: AppConnection, cmd: SipCommand, app: SipMessage): void {
  const txn = s.serverById.get(cmd.txnId);
  if (!txn) return conn.nok(cmd.msgId, 'unable to find transaction');
  // After a final response only an INVITE's 2xx may follow (RFC 6026); its request was slimmed to what that needs.
  if (txn.finalStatus && !(txn.state === 'accepted' && app.status >= 200 && app.status < 300)) return conn.nok(cmd.msgId, 'transaction already completed');
  const req = txn.request;
  const status = app.status;
  const owner = ownerOf(txn);
  const inDialog = owner?.kind === 'app' ? owner.dialog : undefined;
  // A request that makes no dialog gets a tag that says so (see EngineState.noDialogTagPrefix).
  if (status > 100 && !txn.localTag) txn.localTag = DIALOG_METHODS.has(req.method) ? newTag() : s.noDialogTagPrefix + newTag();
  const res = buildResponse(req, status, app.reason || reasonPhrase(status), status > 100 ? txn.localTag : undefined);
  for (const h of app.headers) if (!HEADERS_FROM_REQUEST.has(h.name.toLowerCase())) res.append(h.name, h.value);
  res.body = app.body;

  const creates = DIALOG_METHODS.has(req.method) && !tagOf(req.get('to') ?? '');
  const dialogResponse = (creates || (inDialog && req.method === 'INVITE')) && status > 100 && status < 300;
  if (dialogResponse) {
    if (creates && !res.has('record-route')) for (const rr of req.getRaw('record-route')) res.append('Record-Route', rr);
    const listener = s.local.pick(txn.flow.transport, txn.flow.remoteAddress);
    if (listener) {
      const c = res.get('contact');
      if (!c) res.append('Contact', `<${s.local.uri(listener)}>`);
      else res.set('Contact', c.replace(/@localhost(?::\d+)?(?=[>;]|$)/i, `@${s.local.hostport(listener)}`));
    }
  }
  if (status > 100 && status < 200 && /100rel/i.test(res.get('require') ?? '') && !res.has('rseq')) {
    res.append('RSeq', String(1 + Math.floor(Math.random() * 100000)));
  }
  if (!txn.respond(res)) return conn.nok(cmd.msgId, 'transaction already completed');

  let d = inDialog;
  const reliable1xx = status > 100 && status < 200 && res.has('rseq');
  if (creates && (status >= 200 ? status < 300 : reliable1xx)) {
    d = s.dialogs.find(req.get('call-id') ?? '', txn.localTag ?? '', tagOf(req.get('from') ?? '') ?? '');
    if (!d) d = s.dialogs.add(uasDialog(req, res, txn.flow, conn));
  }
  if (d && status >= 200 && status < 300 && req.method === 'INVITE') retransmit2xx(s, d, res.toBuffer(), txn.flow.transport);
  if (creates && status >= 300 && d) s.dialogs.remove(d);
  if (d && status >= 200 && (req.method === 'BYE' || (req.method === 'NOTIFY' && d.method !== 'INVITE' && /terminated/i.test(req.get('subscription-state') ?? '')))) {
    s.dialogs.remove(d);
    if (req.method === 'BYE') s.cdr('stop', 'network', req, 'normal-release');
  }
  if (req.method === 'INVITE' && creates && status >= 200) {
    if (status < 300) s.cdr('start', 'network', res, 'uas');
    else s.cdr('stop', 'network', res, 'call-rejected');
  }
  s.echo(conn, cmd.msgId, res, txn.flow, txn.id, d?.id ?? '');
}

function retransmit2xx(s: EngineState, d: Dialog, data: Buffer, transport: string): void {
  if (d.pending2xx) {
    clearTimeout(d.pending2xx.timer);
    clearTimeout(d.pending2xx.deadline);
  }
  const pending: NonNullable<Dialog['pending2xx']> = { data, cseq: d.remoteSeq };
  d.pending2xx = pending;
  const target = d.flow
    ? { transport: d.flow.transport, address: d.flow.remoteAddress, port: d.flow.remotePort, flowId: d.flow.id }
    : undefined;
  if (target && !RELIABLE.has(transport as never)) {
    const backoff = new Backoff(s.timers.t1, s.timers.t2);
    const tick = () => {
      if (d.pending2xx !== pending) return;
      s.send(target, data).catch(() => {});
      pending.timer = setTimeout(tick, backoff.next());
      pending.timer.unref();
    };
    pending.timer = setTimeout(tick, backoff.next());
    pending.timer.unref();
  }
  pending.deadline = setTimeout(() => void ackTimeout(s, d, pending), timeout64(s.timers));
  pending.deadline.unref();
}

/** No ACK within 64*T1: BYE the peer and send the app an unsolicited BYE so its dialog ends too. */
async function ackTimeout(s: EngineState, d: Dialog, pending: NonNullable<Dialog['pending2xx']>): Promise<void> {
  if (d.pending2xx !== pending) return;
  clearTimeout(pending.timer);
  d.pending2xx = undefined;
  s.log.info({ dialogId: d.id }, 'no ACK for 2xx; ending the dialog');
  const bye = await engineBye(s, d);
  s.dialogs.remove(d);
  const conn = d.owner as AppConnection;
  if (bye && !conn.closed) s.toApp(conn, 'application', bye, d.flow, 'unsolicited', d.id);
  if (bye) s.cdr('stop', 'application', bye, 'ack-timeout');
}
