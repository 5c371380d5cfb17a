/**
 * RFC 3261 §17.2 server transactions (with RFC 6026's Accepted state for
 * INVITE), one class for both kinds: the INVITE differences are few and
 * keeping them side by side makes the state machine easy to audit.
 */
import { SipMessage } from '../message/index.ts';
import type { Flow } from '../transport/types.ts';
import { Backoff, timeout64, type TimerConfig } from './timers.ts';

/** A copy of `s` that shares no memory with the string it was cut from. */
function own(s: string): string {
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string;
}

function unpooled(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

const KEPT_AFTER_FINAL = new Set(['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq']);

export type ServerTxnState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface ServerTransactionOptions {
  id: string;
  key: string;
  request: SipMessage;
  flow: Flow;
  reliable: boolean;
  timers: TimerConfig;
  /** Sends bytes back towards the request's sender (RFC 3261 §18.2.2). */
  send: (data: Buffer) => void;
  onTerminated: (txn: ServerTransaction) => void;
  /** Timer H fired: no ACK for a non-2xx final response. */
  onAckTimeout?: (txn: ServerTransaction) => void;
  /** Shared fixed-duration timers (see ExpiryQueue) for Timers I and J; returns a cancel function. */
  linger?: (ms: number, fn: () => void) => () => void;
  /** The first final response went out. */
  onFinal?: (txn: ServerTransaction) => void;
  /**
   * A non-INVITE over UDP answered with a final response: instead of
   * lingering as this object for Timer J, the transaction hands its key and
   * response to the owner (see AnsweredRequests) and ends. onTerminated is
   * not called: the owner now holds what the transaction held.
   */
  retire?: (txn: ServerTransaction, response: Buffer) => void;
}

export class ServerTransaction {
  readonly id: string;
  readonly key: string;
  #request: SipMessage;
  readonly flow: Flow;
  readonly isInvite: boolean;
  /** The local To tag used for every response this transaction sends. */
  localTag?: string;
  /** Opaque owner data (which app connection, proxy session …). */
  owner?: unknown;
  /** `Call-ID|From tag|CSeq` this request holds in the merged-request table, if any. */
  mergeKey?: string;
  #state: ServerTxnState;
  #last?: Buffer;
  #lastStatus = 0;
  #timers: NodeJS.Timeout[] = [];
  #cancelLinger?: () => void;
  readonly #opts: Omit<ServerTransactionOptions, 'request'>;

  constructor(opts: ServerTransactionOptions) {
    // Not the options object itself: it would hold the whole request for as long as the transaction lingers.
    const { request: _request, ...rest } = opts;
    this.#opts = rest;
    this.id = opts.id;
    this.key = opts.key;
    this.#request = opts.request;
    this.flow = opts.flow;
    this.isInvite = opts.request.method === 'INVITE';
    this.#state = this.isInvite ? 'proceeding' : 'trying';
    // A non-INVITE client gives up after 64*T1 (Timer F); an answer later reaches no one. Without this
    // a request the app never answers would be held (and counted as work in progress) for ever.
    if (!this.isInvite && opts.linger) this.#cancelUnanswered = opts.linger(timeout64(opts.timers), () => this.#unanswered());
  }

  #cancelUnanswered?: () => void;

  #unanswered(): void {
    this.#cancelUnanswered = undefined;
    if (this.#lastStatus < 200) this.terminate();
  }

  /** The request; after the final response only its start line and Via/From/To/Call-ID/CSeq remain. */
  get request(): SipMessage {
    return this.#request;
  }

  get state(): ServerTxnState {
    return this.#state;
  }

  get finalStatus(): number {
    return this.#lastStatus >= 200 ? this.#lastStatus : 0;
  }

  get lastStatus(): number {
    return this.#lastStatus;
  }

  /** A retransmitted request: answer with the last response, if any. */
  onRetransmission(): void {
    if (this.#last && (this.#state === 'proceeding' || this.#state === 'completed')) this.#opts.send(this.#last);
  }

  /** ACK for a non-2xx final response (INVITE only). */
  onAck(): void {
    if (!this.isInvite || this.#state !== 'completed') return;
    this.#state = 'confirmed';
    this.#clear();
    this.#linger(this.#opts.reliable ? 0 : this.#opts.timers.t4); // Timer I
  }

  /** Send a response; returns false if the transaction can no longer send one. */
  respond(res: SipMessage): boolean {
    if (this.#state === 'terminated' || this.#state === 'completed' || this.#state === 'confirmed') return false;
    if (this.#state === 'accepted' && !(res.status >= 200 && res.status < 300)) return false;
    const data = res.toBuffer();
    if (res.status >= 200 && !this.isInvite && !this.#opts.reliable && this.#opts.retire) {
      this.#last = undefined;
      this.#lastStatus = res.status;
      this.#opts.send(data);
      this.#state = 'terminated';
      this.#finalSent();
      this.#opts.retire(this, data);
      return true;
    }
    // A final response on UDP is kept for 64*T1; a slice of Buffer's shared 8 KiB pool would pin the whole slab that long.
    this.#last = res.status >= 200 && !this.#opts.reliable ? unpooled(data) : data;
    this.#lastStatus = res.status;
    this.#opts.send(data);
    if (res.status < 200) {
      if (this.#state === 'trying') this.#state = 'proceeding';
      return true;
    }
    this.#slim();
    this.#finalSent();
    const t = this.#opts.timers;
    if (this.isInvite && res.status < 300) {
      // RFC 6026: stay to absorb INVITE retransmissions; the UAS core retransmits the 2xx.
      this.#state = 'accepted';
      this.#after(timeout64(t), () => this.terminate()); // Timer L
    } else if (this.isInvite) {
      this.#state = 'completed';
      if (!this.#opts.reliable) this.#scheduleG(new Backoff(t.t1, t.t2));
      this.#after(timeout64(t), () => {
        this.#opts.onAckTimeout?.(this);
        this.terminate();
      }); // Timer H
    } else {
      this.#state = 'completed';
      this.#linger(this.#opts.reliable ? 0 : timeout64(t)); // Timer J
    }
    return true;
  }

  /**
   * A finished transaction lingers for up to 64*T1 to absorb retransmissions;
   * at thousands of requests a second, keeping whole requests (bodies and
   * all) that long is most of the engine's heap. A non-INVITE needs nothing
   * of its request any more (retransmissions get #last); an INVITE keeps
   * what a late 2xx from the app, a CANCEL or an ACK still need, copied so
   * that no header still points into the text of the whole message.
   */
  #slim(): void {
    const full = this.#request;
    const slim = SipMessage.request(full.method, this.isInvite ? own(full.uri) : '');
    if (this.isInvite) {
      for (const h of full.headers) if (KEPT_AFTER_FINAL.has(h.name.toLowerCase())) slim.headers.push({ name: own(h.name), value: own(h.value) });
    }
    this.#request = slim;
  }

  /** The first final response went out: no more timers of the earlier states, no Timer F guard; tell the owner. */
  #finalSent(): void {
    this.#clear();
    this.#cancelUnanswered?.();
    this.#cancelUnanswered = undefined;
    this.#opts.onFinal?.(this);
  }

  terminate(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#clear();
    this.#cancelUnanswered?.();
    this.#cancelUnanswered = undefined;
    this.#opts.onTerminated(this);
  }

  #scheduleG(backoff: Backoff): void {
    this.#after(backoff.next(), () => {
      if (this.#state !== 'completed' || !this.#last) return;
      this.#opts.send(this.#last);
      this.#scheduleG(backoff);
    });
  }

  #after(ms: number, fn: () => void): void {
    const h = setTimeout(fn, ms);
    h.unref?.();
    this.#timers.push(h);
  }

  /** Stay for `ms` to absorb retransmissions, then terminate. */
  #linger(ms: number): void {
    if (ms > 0 && this.#opts.linger) this.#cancelLinger = this.#opts.linger(ms, () => this.terminate());
    else this.#after(ms, () => this.terminate());
  }

  #clear(): void {
    for (const h of this.#timers) clearTimeout(h);
    this.#timers = [];
    this.#cancelLinger?.();
    this.#cancelLinger = undefined;
  }
}
