/**
 * Requests an app sends (`sip|txnId|dialogId|proxy` + a request): new ones
 * are completed (Via, Call-ID, CSeq, tags, Contact) and resolved by
 * RFC 3263; in-dialog ones are built from dialog state; ACK for 2xx and
 * CANCEL are special (no transaction of their own / matched to the INVITE).
 */
import { tagOf, SipMessage } from './message/index.ts';
import type { BoundListener, Flow, SendTarget } from './transport/types.ts';
import { RELIABLE, type EngineState } from './engine-state.ts';
import type { AppConnection, SipCommand } from './wire/app-connection.ts';
import type { Dialog } from './dialog/dialog.ts';
import { inDialogRequest, uacDialog, confirmUac } from './dialog/dialog-factory.ts';
import { resolveTarget } from './resolver.ts';
import { buildCancel, buildResponse, newBranch, newCallId, newTag } from './sip-builder.ts';
import { SipEngineError } from './errors.ts';
import type { ClientTransaction } from './transaction/client-transaction.ts';
import { DIRECT_METHODS, DIRECT_OUT_OF_DIALOG_METHODS, notDirect } from './direct-methods.ts';

interface UacState {
  kind: 'uac';
  /** The app that sent the request; absent for a request made in the engine's own thread (directInDialog). */
  conn?: AppConnection;
  /** Instead of telling an app: the final status, once. */
  onFinal?: (status: number) => void;
  dialog?: Dialog;
  answered?: boolean;
  /** CANCEL held until the INVITE gets a provisional response (RFC 3261 §9.1). */
  pendingCancel?: () => void;
}

const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'REGISTER', 'NOTIFY', 'UPDATE']);

export async function requestFromApp(s: EngineState, conn: AppConnection, cmd: SipCommand, app: SipMessage): Promise<void> {
  try {
    if (cmd.dialogId) return await inDialog(s, conn, cmd, app);
    if (app.method === 'CANCEL') return cancel(s, conn, cmd, app);
    // The engine ACKs non-2xx finals itself (RFC 3261 §17.1.1.3); an ACK outside a dialog has nothing to acknowledge.
    if (app.method === 'ACK') return conn.ok(cmd.msgId, ['application', 0, '', '', '', '', '', '']);
    return await outOfDialog(s, conn, cmd, app);
  } catch (err) {
    conn.nok(cmd.msgId, err instanceof SipEngineError ? err.message : `request failed: ${(err as Error).message}`);
  }
}

async function pickTarget(s: EngineState, uri: string, flow?: Flow): Promise<{ target: SendTarget; listener: BoundListener }> {
  if (flow && RELIABLE.has(flow.transport)) {
    const listener = s.local.pick(flow.transport, flow.remoteAddress);
    if (listener) return { target: { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, flowId: flow.id }, listener };
  }
  const targets = await resolveTarget(uri, s.local.transports);
  for (const target of targets) {
    const listener = s.local.pickExact(target.transport, target.address);
    if (listener) return { target, listener };
  }
  throw new SipEngineError(targets.length ? 'SIP_ERR_NO_LISTENER' : 'SIP_ERR_RESOLVE', `${uri} (${targets.map((x) => `${x.transport}/${x.address}`).join(', ')})`);
}

function localizeHost(value: string, l: BoundListener, s: EngineState): string {
  return value.replace(/@localhost(?::\d+)?(?=[>;]|$)/i, `@${s.local.hostport(l)}`);
}

async function outOfDialog(s: EngineState, conn: AppConnection, cmd: SipCommand, req: SipMessage): Promise<void> {
  const firstRoute = req.getAll('route')[0];
  const via = cmd.proxy || (firstRoute && /;\s*lr\b/i.test(firstRoute) ? firstRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1') : req.uri);
  const { target, listener } = await pickTarget(s, via);
  const branch = newBranch();
  completeOutOfDialog(s, req, listener, branch);

  const state: UacState = { kind: 'uac', conn };
  const txn = s.createClientTxn(req, target, branch, {
    onResponse: (res, flow, t) => uacResponse(s, t, state, res, flow),
    onTimeout: (t, reason) => uacResponse(s, t, state, buildResponse(t.request, reason === 'timeout' ? 408 : 503, undefined, newTag()), undefined),
    onTerminated: () => {},
  });
  txn.owner = state;
  if (req.method === 'INVITE') s.cdr('attempt', 'application', req);
  s.echo(conn, cmd.msgId, req, target, txn.id, '');
  await txn.start();
}

/** What the engine adds to a new out-of-dialog request: its Via, and From tag, To, Call-ID, CSeq and Contact where missing. */
function completeOutOfDialog(s: EngineState, req: SipMessage, listener: BoundListener, branch: string): void {
  req.remove('via');
  req.prepend('Via', s.local.via(listener, branch));
  if (!req.has('max-forwards')) req.append('Max-Forwards', '70');
  const from = req.get('from');
  const fromValue = from ? localizeHost(from, listener, s) : `<sip:${s.local.hostport(listener)}>`;
  req.set('From', tagOf(fromValue) ? fromValue : `${fromValue};tag=${newTag()}`);
  if (!req.has('to')) req.append('To', `<${req.uri}>`);
  if (!req.has('call-id')) req.append('Call-ID', newCallId());
  const cseq = req.get('cseq');
  if (!cseq) req.append('CSeq', `${1 + Math.floor(Math.random() * 1000)} ${req.method}`);
  else if (/^\s*\d+\s*$/.test(cseq)) req.set('CSeq', `${cseq.trim()} ${req.method}`);
  const contact = req.get('contact');
  if (contact) req.set('Contact', localizeHost(contact, listener, s));
  else if (NEEDS_CONTACT.has(req.method)) req.append('Contact', `<${s.local.uri(listener)}>`);
}

function uacResponse(s: EngineState, txn: ClientTransaction, st: UacState, res: SipMessage, flow: Flow | undefined): void {
  const req = txn.request;
  let dialogId = st.dialog?.id ?? '';
  const creates = (req.method === 'INVITE' || req.method === 'SUBSCRIBE' || req.method === 'REFER') && !tagOf(req.get('to') ?? '');
  if (req.method === 'INVITE' && res.status >= 200 && res.status < 300 && st.answered && tagOf(res.get('to') ?? '') === st.dialog?.remoteTag) {
    // A retransmitted 2xx: the app already ACKed it; repeat that ACK instead of bothering the app.
    if (st.dialog?.lastAck && flow) s.send({ transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, flowId: flow.id }, st.dialog.lastAck).catch(() => {});
    return;
  }
  if (res.status >= 200 && res.status < 300) st.answered = true;
  if (res.status < 200 && res.status > 100 && st.pendingCancel) {
    const fire = st.pendingCancel;
    st.pendingCancel = undefined;
    fire();
  }
  if (creates && res.status > 100 && res.status < 300 && tagOf(res.get('to') ?? '')) {
    if (!st.dialog) {
      st.dialog = s.dialogs.add(uacDialog(req, res, flow, st.conn!));
    } else if (res.status >= 200) {
      s.dialogs.remove(st.dialog);
      confirmUac(st.dialog, res);
      s.dialogs.add(st.dialog);
    }
    dialogId = st.dialog.id;
  }
  if (res.status >= 200) {
    st.pendingCancel = undefined;
    if (creates && res.status >= 300 && st.dialog && !st.dialog.lastAck) {
      s.dialogs.remove(st.dialog);
    }
    if (st.dialog && (req.method === 'BYE' || (req.method === 'NOTIFY' && st.dialog.method !== 'INVITE' && /terminated/i.test(req.get('subscription-state') ?? '')))) {
      s.dialogs.remove(st.dialog);
      if (req.method === 'BYE') s.cdr('stop', 'application', req, 'normal-release');
    } else if (st.dialog && !creates && st.dialog.method !== 'INVITE' && endsSubscription(req.method, res)) {
      s.dialogs.remove(st.dialog);
    }
    if (req.method === 'INVITE' && !tagOf(req.get('to') ?? '')) {
      if (res.status < 300) s.cdr('start', 'application', res, 'uac');
      else s.cdr('stop', 'application', res, res.status === 487 ? 'call-canceled' : 'call-rejected');
    }
  }
  if (st.onFinal) {
    if (res.status >= 200) st.onFinal(res.status);
  } else if (st.conn && !st.conn.closed) {
    s.toApp(st.conn, 'network', res, flow, txn.id, dialogId);
  }
}

/**
 * A final response that ends a subscription dialog (SUBSCRIBE or REFER
 * usage) although no terminating NOTIFY went out: 481 and 408 (or the
 * transaction timing out, reported as 408) end the dialog (RFC 5057 §5.1,
 * §5.2), and a NOTIFY refused without Retry-After ends the subscription
 * (RFC 6665 §4.2.2). Without this the engine would keep such dialogs for
 * ever, since the notifier never sends another request in them.
 */
function endsSubscription(method: string, res: SipMessage): boolean {
  if (res.status === 481 || res.status === 408) return true;
  return method === 'NOTIFY' && res.status >= 300 && !res.has('retry-after');
}

async function inDialog(s: EngineState, conn: AppConnection, cmd: SipCommand, app: SipMessage): Promise<void> {
  const d = s.dialogs.byId(cmd.dialogId);
  if (!d) throw new SipEngineError('SIP_ERR_NO_DIALOG', cmd.dialogId);
  const req = inDialogRequest(d, app.method, app);
  if (app.method === 'INVITE') d.inviteSeq = d.localSeq;
  const firstRoute = d.routeSet[0];
  const hop = firstRoute ? firstRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1') : req.uri;
  const { target, listener } = await pickTarget(s, hop, d.routeSet.length ? undefined : d.flow);
  const branch = newBranch();
  req.prepend('Via', s.local.via(listener, branch));
  if (NEEDS_CONTACT.has(req.method) && !req.has('contact')) req.append('Contact', `<${s.local.uri(listener)}>`);
  if (app.method === 'ACK') {
    const data = req.toBuffer();
    d.lastAck = data;
    s.echo(conn, cmd.msgId, req, target, '', d.id);
    await s.send(target, data).catch(() => {});
    return;
  }
  const state: UacState = { kind: 'uac', conn, dialog: d };
  const txn = s.createClientTxn(req, target, branch, {
    onResponse: (res, flow, t) => uacResponse(s, t, state, res, flow),
    onTimeout: (t, reason) => uacResponse(s, t, state, buildResponse(t.request, reason === 'timeout' ? 408 : 503, undefined, newTag()), undefined),
    onTerminated: () => {},
  });
  txn.owner = state;
  s.echo(conn, cmd.msgId, req, target, txn.id, d.id);
  await txn.start();
}

/**
 * A request inside a dialog the engine keeps, made by code in the engine's
 * own process without the wire (the host's bulk NOTIFYs): built from the
 * dialog state exactly as an app's in-dialog request, with the same dialog
 * bookkeeping on its final response. Resolves with the final status: 481
 * without such a dialog, 408 on timeout, 503 when it cannot be sent.
 */
export function directInDialog(s: EngineState, dialogId: string, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  const upper = method.toUpperCase();
  if (!DIRECT_METHODS.has(upper)) return Promise.reject(notDirect(upper));
  const d = s.dialogs.byId(dialogId);
  if (!d) return Promise.resolve(481);
  return sendDirect(s, d, async () => {
    const req = inDialogRequest(d, upper, withContent(SipMessage.request(upper, d.remoteTarget), headers, body));
    const firstRoute = d.routeSet[0];
    const hop = firstRoute ? firstRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1') : req.uri;
    const { target, listener } = await pickTarget(s, hop, d.routeSet.length ? undefined : d.flow);
    const branch = newBranch();
    req.prepend('Via', s.local.via(listener, branch));
    if (NEEDS_CONTACT.has(upper) && !req.has('contact')) req.append('Contact', `<${s.local.uri(listener)}>`);
    return { req, target, branch };
  });
}

/**
 * An out-of-dialog request (MESSAGE, OPTIONS, …; nothing that creates a
 * dialog) made by code in the engine's own process without the wire,
 * completed like an app's (Via, From tag, To, Call-ID, CSeq, Contact) and
 * resolved by RFC 3263. Resolves with the final status: 408 on timeout,
 * 503 when it cannot be sent.
 */
export function directOutOfDialog(s: EngineState, uri: string, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  const upper = method.toUpperCase();
  if (!DIRECT_OUT_OF_DIALOG_METHODS.has(upper)) return Promise.reject(notDirect(upper));
  return sendDirect(s, undefined, async () => {
    const req = withContent(SipMessage.request(upper, uri), headers, body);
    const firstRoute = req.getAll('route')[0];
    const via = firstRoute && /;\s*lr\b/i.test(firstRoute) ? firstRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1') : req.uri;
    const { target, listener } = await pickTarget(s, via);
    const branch = newBranch();
    completeOutOfDialog(s, req, listener, branch);
    return { req, target, branch };
  });
}

function withContent(req: SipMessage, headers: Record<string, string>, body: string | undefined): SipMessage {
  for (const [name, value] of Object.entries(headers)) req.append(name, value);
  if (body) req.body = Buffer.from(body);
  return req;
}

/** Run what `prepare` builds as a client transaction of the engine's own; resolves once with the final status. */
function sendDirect(s: EngineState, dialog: Dialog | undefined, prepare: () => Promise<{ req: SipMessage; target: SendTarget; branch: string }>): Promise<number> {
  return new Promise<number>((resolve) => {
    let settled = false;
    const onFinal = (status: number): void => {
      if (settled) return;
      settled = true;
      resolve(status);
    };
    void (async () => {
      const { req, target, branch } = await prepare();
      const state: UacState = { kind: 'uac', onFinal, ...(dialog ? { dialog } : {}) };
      const txn = s.createClientTxn(req, target, branch, {
        onResponse: (res, flow, t) => uacResponse(s, t, state, res, flow),
        onTimeout: (t, reason) => uacResponse(s, t, state, buildResponse(t.request, reason === 'timeout' ? 408 : 503, undefined, newTag()), undefined),
        onTerminated: () => onFinal(503),
      });
      txn.owner = state;
      await txn.start();
    })().catch((err: unknown) => {
      s.log.debug({ err }, 'request of the engine\'s own not sent');
      onFinal(503);
    });
  });
}

function cancel(s: EngineState, conn: AppConnection, cmd: SipCommand, app: SipMessage): void {
  const inv = s.clientById.get(cmd.txnId);
  if (!inv || inv.request.method !== 'INVITE') throw new SipEngineError('SIP_ERR_NO_TRANSACTION', cmd.txnId);
  const extra = app.headers.filter((h) => /^(reason|x-)/i.test(h.name));
  const req = buildCancel(inv.request, extra);
  const branch = /branch=([^;,\s]+)/i.exec(req.get('via') ?? '')?.[1] ?? newBranch();
  const target = inv.flow ? { ...inv.target, flowId: inv.flow.id } : inv.target;
  const send = () => {
    const txn = s.createClientTxn(req, target, branch, { onResponse: () => {}, onTimeout: () => {}, onTerminated: () => {} });
    void txn.start();
  };
  s.echo(conn, cmd.msgId, req, target, cmd.txnId, '');
  const st = inv.owner as UacState | undefined;
  if (inv.state === 'proceeding' || inv.gotProvisional) send();
  else if (inv.state === 'calling' && st) st.pendingCancel = send;
}

/** A BYE the engine sends on its own (ACK timeout); responses are ignored. */
export async function engineBye(s: EngineState, d: Dialog): Promise<SipMessage | undefined> {
  try {
    const app = SipMessage.request('BYE', d.remoteTarget);
    app.append('Reason', 'SIP;cause=408;text="ACK timeout"');
    const req = inDialogRequest(d, 'BYE', app);
    const firstRoute = d.routeSet[0];
    const hop = firstRoute ? firstRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1') : req.uri;
    const { target, listener } = await pickTarget(s, hop, d.routeSet.length ? undefined : d.flow);
    const branch = newBranch();
    req.prepend('Via', s.local.via(listener, branch));
    const txn = s.createClientTxn(req, target, branch, { onResponse: () => {}, onTimeout: () => {}, onTerminated: () => {} });
    void txn.start();
    return req;
  } catch (err) {
    s.log.debug({ err }, 'engine BYE not sent');
    return undefined;
  }
}

