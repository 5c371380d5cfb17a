/**
 * The engine's shared state and the few primitives every part uses
 * (sending, transaction bookkeeping, app delivery). Inbound dispatch, app
 * commands and proxying live in their own files and work on this object.
 */
import type { HostService } from './host-requests.ts';
import { randomUUID } from 'node:crypto';
import { nextId } from './ids.ts';
import type { Logger } from 'pino';
import type { SipMessage } from './message/index.ts';
import { parseVia, viaParam } from './message/index.ts';
import type { Flow, SendTarget, TransportName } from './transport/types.ts';
import type { TransportLayer } from './transport/index.ts';
import { ServerTransaction } from './transaction/server-transaction.ts';
import { ClientTransaction, type ClientTransactionEvents } from './transaction/client-transaction.ts';
import { ExpiryQueue, timeout64, type TimerConfig } from './transaction/timers.ts';
import { AnsweredRequests } from './transaction/answered-requests.ts';
import { DialogStore } from './dialog/dialog-store.ts';
import { RouteTable } from './wire/route-table.ts';
import { wireTime, type AppConnection, type WireMeta } from './wire/app-connection.ts';
import { LocalAddresses } from './local-addresses.ts';
import { buildNon2xxAck, buildResponse, randomToken } from './sip-builder.ts';

export const RELIABLE: ReadonlySet<TransportName> = new Set(['tcp', 'tls', 'ws', 'wss']);

/**
 * Past these bounds the engine answers new out-of-dialog requests 503 with
 * Retry-After instead of taking them on: work queued without bound only
 * ends in timeouts, retransmissions that add load, and memory growth.
 */
export interface OverloadLimits {
  /** Server transactions still waiting for their final response (work in progress). */
  maxPendingRequests: number;
  /** All transactions, lingering ones included (memory); answered requests kept for Timer J are bounded apart. */
  maxTransactions: number;
  /**
   * Answered non-INVITE requests kept to answer their retransmissions
   * (AnsweredRequests): past this the oldest go early rather than new
   * requests being refused.
   */
  maxAnsweredRequests: number;
  /** Bytes written to an app connection and not yet taken by it. */
  maxWireBacklogBytes: number;
  /** Seconds in the 503's Retry-After. */
  retryAfterSeconds: number;
}

export const DEFAULT_OVERLOAD: OverloadLimits = {
  maxPendingRequests: 2000,
  maxTransactions: 150_000,
  maxAnsweredRequests: 150_000,
  maxWireBacklogBytes: 8 * 1024 * 1024,
  retryAfterSeconds: 5,
};

export class EngineState {
  readonly transports: TransportLayer;
  readonly timers: TimerConfig;
  readonly log: Logger;
  local!: LocalAddresses;
  readonly routes = new RouteTable<AppConnection>();
  readonly dialogs = new DialogStore();
  readonly serverByKey = new Map<string, ServerTransaction>();
  readonly serverById = new Map<string, ServerTransaction>();
  readonly clientByKey = new Map<string, ClientTransaction>();
  readonly clientById = new Map<string, ClientTransaction>();
  /** `Call-ID|From tag|CSeq` of requests without To tag → server transaction key (merged-request detection). */
  readonly merged = new Map<string, string>();
  /** Prefix of the branches this engine generates when it forwards (loop detection). */
  readonly branchSecret = randomUUID().slice(0, 8);
  /** Start of the To tags of answers that create no dialog (stateless ones, answers to MESSAGE …): a request carrying one belongs to no dialog. */
  readonly noDialogTagPrefix = `sl${this.branchSecret.slice(0, 6)}`;
  stopping = false;
  readonly overload: OverloadLimits;
  /** Server transactions without a final response yet. */
  pendingRequests = 0;
  /** Requests answered 503 because a bound in `overload` was reached. */
  overloadRejected = 0;
  readonly #lingering = new Map<number, ExpiryQueue>();
  /** Non-INVITE requests over UDP already answered, by server transaction key, for Timer J (see AnsweredRequests). */
  readonly answered: AnsweredRequests;
  /** Methods the host answers without the wire, and where they go (SipEngine.serveHost). */
  host?: HostService;
  /** Requests handed to the host that way. */
  hostRequests = 0;

  constructor(transports: TransportLayer, timers: TimerConfig, log: Logger, overload: OverloadLimits = DEFAULT_OVERLOAD) {
    this.transports = transports;
    this.timers = timers;
    this.log = log;
    this.overload = overload;
    this.answered = new AnsweredRequests(timeout64(timers), (key, entry) => {
      if (entry.mergeKey && this.merged.get(entry.mergeKey) === key) this.merged.delete(entry.mergeKey);
    }, overload.maxAnsweredRequests);
  }

  /** A request with this server transaction key is in progress or was answered within Timer J. */
  hasServerTxn(key: string): boolean {
    return this.serverByKey.has(key) || this.answered.has(key);
  }

  /** A retransmission of a request already answered: the same response again. Returns false if there is none. */
  answerAgain(key: string): boolean {
    const entry = this.answered.get(key);
    if (!entry) return false;
    this.send(entry.target, AnsweredRequests.bytes(entry)).catch((err) => this.log.debug({ err }, 'response not sent'));
    return true;
  }

  /** One shared queue per duration for the timers every transaction arms (J, K, I). */
  readonly linger = (ms: number, fn: () => void): (() => void) => {
    let q = this.#lingering.get(ms);
    if (!q) this.#lingering.set(ms, (q = new ExpiryQueue(ms)));
    return q.add(fn);
  };

  stopTimers(): void {
    for (const q of this.#lingering.values()) q.clear();
    this.answered.clear();
  }

  /** Why a new out-of-dialog request should be refused now, or undefined when there is room. */
  overloadedBy(method: string): string | undefined {
    const o = this.overload;
    if (this.pendingRequests >= o.maxPendingRequests) return 'pending requests';
    if (this.serverById.size + this.clientById.size >= o.maxTransactions) return 'transactions';
    if (this.routes.some(method, (c) => c.backlogBytes() > o.maxWireBacklogBytes)) return 'app backlog';
    return undefined;
  }

  /** 503 + Retry-After, statelessly (a retransmission gets another one). */
  rejectOverloaded(req: SipMessage, flow: Flow, why: string): void {
    this.overloadRejected++;
    if (this.overloadRejected === 1 || this.overloadRejected % 1000 === 0) {
      this.log.warn({ code: 'SIP_ERR_OVERLOAD', why, rejected: this.overloadRejected, pending: this.pendingRequests }, 'overloaded: new requests answered 503');
    }
    const res = buildResponse(req, 503, 'Service Unavailable', this.noDialogTagPrefix + randomToken(4));
    res.append('Retry-After', String(this.overload.retryAfterSeconds));
    this.send(this.responseTarget(req, flow), res.toBuffer()).catch(() => {});
  }

  send(target: SendTarget, data: Buffer): Promise<Flow> {
    return this.transports.send(target, data);
  }

  /** Where responses to a request go: its connection for streams, Via received/rport for UDP (RFC 3261 §18.2.2, RFC 3581). */
  responseTarget(req: SipMessage, flow: Flow): SendTarget {
    if (RELIABLE.has(flow.transport)) {
      return { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, flowId: flow.id };
    }
    const top = req.getAll('via')[0];
    let port = flow.remotePort;
    if (top) {
      try {
        const v = parseVia(top);
        if (viaParam(v, 'rport') === undefined) port = v.port ?? 5060;
      } catch {
        /* keep the source port */
      }
    }
    return { transport: 'udp', address: flow.remoteAddress, port, flowId: flow.id };
  }

  /** Answer a request outside any transaction (e.g. 400 to a bad message, 483, 482). */
  sendStateless(req: SipMessage, flow: Flow, status: number, reason?: string): void {
    const res = buildResponse(req, status, reason, status > 100 ? this.noDialogTagPrefix + randomToken(4) : undefined);
    this.send(this.responseTarget(req, flow), res.toBuffer()).catch(() => {});
  }

  createServerTxn(key: string, req: SipMessage, flow: Flow): ServerTransaction {
    const target = this.responseTarget(req, flow);
    let open = true;
    const settle = (): void => {
      if (!open) return;
      open = false;
      this.pendingRequests--;
    };
    this.pendingRequests++;
    const txn = new ServerTransaction({
      id: nextId(),
      key,
      request: req,
      flow,
      reliable: RELIABLE.has(flow.transport),
      timers: this.timers,
      send: (data) => {
        this.send(target, data).catch((err) => this.log.debug({ err }, 'response not sent'));
      },
      linger: this.linger,
      onFinal: settle,
      retire: (t, response) => {
        if (this.serverByKey.get(t.key) === t) this.serverByKey.delete(t.key);
        this.serverById.delete(t.id);
        this.answered.add(t.key, response, target, t.mergeKey);
      },
      onTerminated: (t) => {
        settle();
        if (this.serverByKey.get(t.key) === t) this.serverByKey.delete(t.key);
        this.serverById.delete(t.id);
        if (t.mergeKey && this.merged.get(t.mergeKey) === t.key) this.merged.delete(t.mergeKey);
      },
    });
    this.serverByKey.set(key, txn);
    this.serverById.set(txn.id, txn);
    return txn;
  }

  createClientTxn(req: SipMessage, target: SendTarget, branch: string, events: ClientTransactionEvents): ClientTransaction {
    const method = req.method === 'ACK' ? 'INVITE' : req.method;
    const key = `${branch}|${method}`;
    const txn: ClientTransaction = new ClientTransaction({
      id: nextId(),
      key,
      request: req,
      target,
      reliable: RELIABLE.has(target.transport),
      timers: this.timers,
      send: (t, d) => this.send(t, d),
      // Through txn, not req: a closure over req would keep the whole request as long as the transaction.
      buildAck: (res): SipMessage => buildNon2xxAck(txn.request, res),
      linger: this.linger,
      onResponse: events.onResponse,
      onTimeout: events.onTimeout,
      onTerminated: (t) => {
        if (this.clientByKey.get(t.key) === t) this.clientByKey.delete(t.key);
        this.clientById.delete(t.id);
        events.onTerminated(t);
      },
    });
    this.clientByKey.set(key, txn);
    this.clientById.set(txn.id, txn);
    return txn;
  }

  /** Deliver a SIP message to an app (`sip|…`). */
  toApp(conn: AppConnection, source: 'network' | 'application', msg: SipMessage, flow: Flow | undefined, txnId: string, dialogId: string): void {
    const meta: WireMeta = {
      source,
      protocol: flow?.transport ?? 'udp',
      address: flow?.remoteAddress ?? '',
      port: flow?.remotePort ?? '',
      time: wireTime(),
      transactionId: txnId,
      dialogId,
    };
    conn.sip(meta, msg.toString(), flow ? { address: flow.localAddress, port: flow.localPort } : undefined);
  }

  /** Echo what the engine actually sent for an app command (`response|rId|OK|application|…`). */
  echo(conn: AppConnection, rId: string, msg: SipMessage, target: SendTarget | Flow | undefined, txnId: string, dialogId: string): void {
    const t = target as Partial<SendTarget & Flow> | undefined;
    conn.okWithMessage(rId, {
      source: 'application',
      protocol: t?.transport ?? 'udp',
      address: t?.remoteAddress ?? t?.address ?? '',
      port: t?.remotePort ?? t?.port ?? '',
      time: wireTime(),
      transactionId: txnId,
      dialogId,
    }, msg.toString());
  }

  /** `cdr:attempt|start|stop` to every app that routes it. */
  cdr(kind: 'attempt' | 'start' | 'stop', source: 'network' | 'application', msg: SipMessage, extra?: string): void {
    const subs = this.routes.all(`cdr:${kind}`);
    if (!subs.length) return;
    const fields = [`cdr:${kind}`, source, wireTime()];
    if (extra !== undefined) fields.push(extra);
    const payload = `${fields.join('|')}\r\n${msg.toString()}`;
    for (const c of subs) c.send(payload);
  }
}
