/**
 * Stateful proxying (RFC 3261 §16) for `proxy|…` commands and for in-dialog
 * requests of dialogs this engine record-routed: serial or simultaneous
 * forking, provisional/final timeouts, redirects, best-response selection
 * and CANCEL propagation. Every response is reported to the app that asked.
 */
import type { SipMessage } from '../message/index.ts';
import { parseNameAddr } from '../message/index.ts';
import type { Flow } from '../transport/types.ts';
import type { EngineState } from '../engine-state.ts';
import type { ServerTransaction } from '../transaction/server-transaction.ts';
import type { ClientTransaction } from '../transaction/client-transaction.ts';
import { wireTime, type AppConnection } from '../wire/app-connection.ts';
import { buildCancel, buildResponse, newTag } from '../sip-builder.ts';
import { resolveTarget, type ResolvedTarget } from '../resolver.ts';
import type { BoundListener } from '../transport/types.ts';
import { loopBranch } from '../inbound.ts';

export interface ProxyOptions {
  destinations: string[];
  remainInDialog: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  provisionalTimeoutMs: number;
  finalTimeoutMs: number;
  /** In-dialog forwarding keeps the Request-URI and follows Route. */
  keepUri?: boolean;
  app?: { conn: AppConnection; msgId: string };
}

interface Branch {
  uri: string;
  txn?: ClientTransaction;
  provisional: boolean;
  final?: SipMessage;
  timers: NodeJS.Timeout[];
}

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(text.trim());
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export class ProxySession {
  readonly #s: EngineState;
  readonly #up: ServerTransaction;
  readonly #req: SipMessage;
  readonly #opts: ProxyOptions;
  readonly #queue: string[];
  readonly #branches: Branch[] = [];
  #redirects = 0;
  #answered = false;
  #cancelled = false;
  #done = false;
  #seq = 0;

  constructor(s: EngineState, upstream: ServerTransaction, req: SipMessage, opts: ProxyOptions) {
    this.#s = s;
    this.#up = upstream;
    this.#req = req;
    this.#opts = opts;
    this.#queue = [...opts.destinations];
    upstream.owner = { kind: 'proxy', session: this };
  }

  start(): void {
    const mf = Number(this.#req.get('max-forwards') ?? '70');
    if (mf <= 0) return this.#finishWith(buildResponse(this.#req, 483, undefined, newTag()));
    if (!this.#queue.length) return this.#finishWith(buildResponse(this.#req, 480, undefined, newTag()));
    if (this.#opts.simultaneous) while (this.#queue.length) this.#launch(this.#queue.shift()!);
    else this.#launch(this.#queue.shift()!);
  }

  cancelFromUpstream(_cancel: SipMessage): void {
    this.#cancelled = true;
    this.#queue.length = 0;
    for (const b of this.#branches) this.#cancelBranch(b);
  }

  #launch(uri: string): void {
    const b: Branch = { uri, provisional: false, timers: [] };
    this.#branches.push(b);
    void this.#send(b).catch((err) => {
      this.#s.log.debug({ err, uri }, 'proxy branch failed');
      this.#onFinal(b, buildResponse(this.#req, 503, undefined, newTag()), undefined);
    });
  }

  async #send(b: Branch): Promise<void> {
    const s = this.#s;
    const req = this.#req.clone();
    if (!this.#opts.keepUri) req.uri = b.uri;
    req.set('Max-Forwards', String(Number(this.#req.get('max-forwards') ?? '70') - 1));
    const route = req.getAll('route')[0];
    const hop = route ? parseNameAddr(route).uri : req.uri;
    const { target, listener } = await reachable(s, hop);
    if (this.#opts.remainInDialog) req.prepend('Record-Route', s.local.recordRoute(listener));
    const branch = loopBranch(s, this.#req, `.${++this.#seq}`);
    req.prepend('Via', s.local.via(listener, branch));
    const txn = s.createClientTxn(req, target, branch, {
      onResponse: (res, flow) => this.#onResponse(b, res, flow),
      onTimeout: () => this.#onFinal(b, buildResponse(req, 408, undefined, newTag()), undefined),
      onTerminated: () => {},
    });
    b.txn = txn;
    if (this.#opts.provisionalTimeoutMs) {
      b.timers.push(setTimeout(() => !b.provisional && !b.final && this.#timeoutBranch(b), this.#opts.provisionalTimeoutMs));
    }
    if (this.#opts.finalTimeoutMs) b.timers.push(setTimeout(() => !b.final && this.#timeoutBranch(b), this.#opts.finalTimeoutMs));
    if (this.#cancelled) return this.#onFinal(b, buildResponse(req, 487, undefined, newTag()), undefined);
    await txn.start();
  }

  #report(res: SipMessage, flow: Flow | undefined, more: boolean): void {
    const app = this.#opts.app;
    if (!app || app.conn.closed) return;
    app.conn.okWithMessage(app.msgId, {
      source: 'network',
      protocol: flow?.transport ?? 'udp',
      address: flow?.remoteAddress ?? '',
      port: flow?.remotePort ?? '',
      time: wireTime(),
      transactionId: this.#up.id,
      dialogId: '',
    }, res.toString(), more);
  }

  #forward(res: SipMessage): void {
    const up = res.clone();
    up.removeFirst('via');
    this.#up.respond(up);
  }

  #onResponse(b: Branch, res: SipMessage, flow: Flow): void {
    if (res.status < 200) {
      b.provisional = true;
      this.#report(res, flow, true);
      if (res.status > 100 && !this.#answered) this.#forward(res);
      return;
    }
    this.#onFinal(b, res, flow);
  }

  #onFinal(b: Branch, res: SipMessage, flow: Flow | undefined): void {
    if (b.final && !(res.status < 300)) return;
    const firstFinal = !b.final;
    b.final = res;
    for (const t of b.timers) clearTimeout(t);
    if (flow) this.#report(res, flow, true);
    if (res.status < 300) {
      // 2xx goes upstream at once (all of them, for INVITE forks); the other branches are cancelled.
      this.#answered = true;
      this.#forward(res);
      if (firstFinal) for (const other of this.#branches) if (other !== b) this.#cancelBranch(other);
      this.#queue.length = 0;
      return this.#maybeDone();
    }
    if (res.status < 400 && this.#opts.followRedirects && this.#redirects < 5) {
      for (const c of res.getAll('contact')) {
        try {
          this.#queue.push(parseNameAddr(c).uri);
        } catch {
          /* skip unusable contact */
        }
      }
      this.#redirects++;
    }
    if (res.status >= 600) {
      this.#queue.length = 0;
      for (const other of this.#branches) if (other !== b) this.#cancelBranch(other);
    }
    if (!this.#answered && !this.#cancelled && this.#queue.length && this.#branches.every((x) => x.final)) {
      this.#launch(this.#queue.shift()!);
      return;
    }
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#done || !this.#branches.every((b) => b.final)) return;
    if (!this.#answered) this.#finishWith(this.#best());
    else this.#finish();
  }

  #best(): SipMessage {
    const finals = this.#branches.map((b) => b.final!).filter(Boolean);
    const six = finals.find((r) => r.status >= 600);
    if (six) return six;
    const pick = finals.sort((a, b) => Math.floor(a.status / 100) - Math.floor(b.status / 100) || a.status - b.status)[0];
    if (!pick) return buildResponse(this.#req, 408, undefined, newTag());
    if (pick.status === 503) {
      const r = pick.clone();
      r.status = 500;
      r.reason = 'Server Internal Error';
      return r;
    }
    return pick;
  }

  #finishWith(res: SipMessage): void {
    const upstreamVia = this.#req.getAll('via').length === res.getAll('via').length;
    if (upstreamVia) this.#up.respond(res);
    else this.#forward(res);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const app = this.#opts.app;
    if (app && !app.conn.closed) app.conn.ok(app.msgId, ['done']);
  }

  #timeoutBranch(b: Branch): void {
    if (b.final) return;
    this.#cancelBranch(b);
    this.#onFinal(b, buildResponse(this.#req, 408, undefined, newTag()), undefined);
  }

  #cancelBranch(b: Branch): void {
    const txn = b.txn;
    if (!txn || b.final || txn.request.method !== 'INVITE') return;
    if (!txn.gotProvisional) {
      txn.terminate();
      return;
    }
    const cancel = buildCancel(txn.request);
    const branch = /branch=([^;,\s]+)/i.exec(cancel.get('via') ?? '')?.[1] ?? '';
    const target = txn.flow ? { ...txn.target, flowId: txn.flow.id } : txn.target;
    void this.#s.createClientTxn(cancel, target, branch, { onResponse: () => {}, onTimeout: () => {}, onTerminated: () => {} }).start();
  }
}

/** Forward an in-dialog request of a dialog we record-routed (or any request loose-routed through us). */
export function forwardInDialog(s: EngineState, req: SipMessage, _flow: Flow, txn: ServerTransaction | undefined): void {
  if (txn) {
    new ProxySession(s, txn, req, {
      destinations: [req.uri], keepUri: true, remainInDialog: false, followRedirects: false, simultaneous: false,
      provisionalTimeoutMs: 0, finalTimeoutMs: 0,
    }).start();
    return;
  }
  // ACK for a 2xx is end-to-end and has no transaction: forward it statelessly.
  void (async () => {
    const fwd = req.clone();
    const mf = Number(req.get('max-forwards') ?? '70');
    if (mf <= 0) return;
    fwd.set('Max-Forwards', String(mf - 1));
    const route = fwd.getAll('route')[0];
    const hop = route ? parseNameAddr(route).uri : fwd.uri;
    const { target, listener } = await reachable(s, hop);
    fwd.prepend('Via', s.local.via(listener, loopBranch(s, req, '.ack')));
    await s.send(target, fwd.toBuffer());
  })().catch((err) => s.log.debug({ err }, 'ACK not forwarded'));
}

/** The first resolved target this engine has a listener for (transport and address family). */
async function reachable(s: EngineState, hop: string): Promise<{ target: ResolvedTarget; listener: BoundListener }> {
  const targets = await resolveTarget(hop, s.local.transports);
  for (const target of targets) {
    const listener = s.local.pickExact(target.transport, target.address);
    if (listener) return { target, listener };
  }
  throw new Error(`no reachable target for ${hop}`);
}
