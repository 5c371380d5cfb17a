/**
 * RFC 3261 §17.1 client transactions (with RFC 6026's Accepted state for
 * INVITE, so 2xx retransmissions still reach the TU).
 */
import { SipMessage } from '../message/index.ts';
import type { Flow, SendTarget } from '../transport/types.ts';
import { Backoff, timeout64, type TimerConfig } from './timers.ts';

const EMPTY = Buffer.alloc(0);

export type ClientTxnState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ClientTransactionEvents {
  /** Every response the TU should see (retransmitted non-2xx finals are absorbed). */
  onResponse: (res: SipMessage, flow: Flow, txn: ClientTransaction) => void;
  /** Timer B/F fired or the transport failed: the TU synthesises 408/503. */
  onTimeout: (txn: ClientTransaction, reason: 'timeout' | 'transport') => void;
  onTerminated: (txn: ClientTransaction) => void;
}

export interface ClientTransactionOptions extends ClientTransactionEvents {
  id: string;
  key: string;
  request: SipMessage;
  target: SendTarget;
  reliable: boolean;
  timers: TimerConfig;
  send: (target: SendTarget, data: Buffer) => Promise<Flow>;
  /** Builds the ACK for a non-2xx final response (§17.1.1.3). */
  buildAck: (res: SipMessage) => SipMessage;
  /** Shared fixed-duration timers (see ExpiryQueue) for Timer K; returns a cancel function. */
  linger?: (ms: number, fn: () => void) => () => void;
}

export class ClientTransaction {
  readonly id: string;
  readonly key: string;
  /** The request; once a non-INVITE has its final response, only its method remains (see #release). */
  request: SipMessage;
  readonly isInvite: boolean;
  target: SendTarget;
  /** The flow the request actually left on (known once sent). */
  flow?: Flow;
  owner?: unknown;
  #state: ClientTxnState;
  #data: Buffer;
  #ack?: Buffer;
  #timers: NodeJS.Timeout[] = [];
  #cancelLinger?: () => void;
  #gotProvisional = false;
  readonly #opts: Omit<ClientTransactionOptions, 'request'>;

  constructor(opts: ClientTransactionOptions) {
    // Not the options object itself: it would hold the request for as long as the transaction lingers.
    const { request: _request, ...rest } = opts;
    this.#opts = rest;
    this.id = opts.id;
    this.key = opts.key;
    this.request = opts.request;
    this.target = opts.target;
    this.isInvite = opts.request.method === 'INVITE';
    this.#state = this.isInvite ? 'calling' : 'trying';
    this.#data = opts.request.toBuffer();
  }

  get state(): ClientTxnState {
    return this.#state;
  }

  get gotProvisional(): boolean {
    return this.#gotProvisional;
  }

  /** Send the request and arm Timer A/E and B/F. Resolves with the flow used. */
  async start(): Promise<Flow | undefined> {
    const t = this.#opts.timers;
    this.#after(timeout64(t), () => this.#timeout('timeout')); // Timer B / F
    if (!this.#opts.reliable) this.#retransmit(new Backoff(t.t1, this.isInvite ? Number.MAX_SAFE_INTEGER : t.t2));
    try {
      this.flow = await this.#opts.send(this.target, this.#data);
      return this.flow;
    } catch {
      this.#timeout('transport');
      return undefined;
    }
  }

  onResponse(res: SipMessage, flow: Flow): void {
    const s = res.status;
    switch (this.#state) {
      case 'calling':
      case 'trying':
      case 'proceeding':
        if (s < 200) {
          this.#gotProvisional = true;
          if (this.#state === 'calling') this.#stopRetransmit();
          this.#state = 'proceeding';
          this.#opts.onResponse(res, flow, this);
          return;
        }
        this.#clear();
        if (this.isInvite && s < 300) {
          this.#state = 'accepted';
          this.#after(timeout64(this.#opts.timers), () => this.terminate()); // Timer M
        } else if (this.isInvite) {
          this.#state = 'completed';
          this.#ack = this.#opts.buildAck(res).toBuffer();
          this.#sendAck();
          this.#after(this.#opts.reliable ? 0 : 32000, () => this.terminate()); // Timer D
        } else {
          this.#state = 'completed';
          // Nothing is retransmitted any more: the request's bytes can go now, not after Timer K.
          this.#data = EMPTY;
          const k = this.#opts.reliable ? 0 : this.#opts.timers.t4; // Timer K
          if (k > 0 && this.#opts.linger) this.#cancelLinger = this.#opts.linger(k, () => this.terminate());
          else this.#after(k, () => this.terminate());
        }
        this.#opts.onResponse(res, flow, this);
        if (!this.isInvite) this.#release();
        return;
      case 'accepted':
        if (s >= 200 && s < 300) this.#opts.onResponse(res, flow, this);
        return;
      case 'completed':
        if (this.isInvite && s >= 300) this.#sendAck();
        return;
      default:
        return;
    }
  }

  /**
   * A completed non-INVITE lingers (Timer K) only to absorb retransmitted
   * responses; its request (built from the app's wire text, which each header
   * still points into) need not stay that long.
   */
  #release(): void {
    this.request = SipMessage.request(this.request.method, '');
  }

  terminate(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#clear();
    this.#opts.onTerminated(this);
  }

  #sendAck(): void {
    if (this.#ack) this.#opts.send(this.flow ? { ...this.target, flowId: this.flow.id } : this.target, this.#ack).catch(() => {});
  }

  #timeout(reason: 'timeout' | 'transport'): void {
    if (this.#state === 'terminated' || this.#state === 'completed' || this.#state === 'accepted') return;
    this.#clear();
    this.#opts.onTimeout(this, reason);
    this.terminate();
  }

  #retransmitTimer?: NodeJS.Timeout;

  #retransmit(backoff: Backoff): void {
    const h = setTimeout(() => {
      const st = this.#state;
      if (st !== 'calling' && st !== 'trying' && st !== 'proceeding') return;
      const target = this.flow ? { ...this.target, flowId: this.flow.id } : this.target;
      this.#opts.send(target, this.#data).catch(() => {});
      this.#retransmit(backoff);
    }, backoff.next());
    h.unref?.();
    this.#retransmitTimer = h;
  }

  #stopRetransmit(): void {
    if (this.#retransmitTimer) clearTimeout(this.#retransmitTimer);
    this.#retransmitTimer = undefined;
  }

  #after(ms: number, fn: () => void): void {
    const h = setTimeout(fn, ms);
    h.unref?.();
    this.#timers.push(h);
  }

  #clear(): void {
    this.#stopRetransmit();
    for (const h of this.#timers) clearTimeout(h);
    this.#timers = [];
    this.#cancelLinger?.();
    this.#cancelLinger = undefined;
  }
}
