import { TransportError, TransportErrorCode } from './errors.ts';

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

export interface StreamFramerOptions {
  maxMessageSize: number;
  /** Called for each RFC 5626 double-CRLF ping; the owner answers with a single CRLF. */
  onPing?: () => void;
}

/**
 * Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3): headers end
 * at the first blank line and Content-Length (required on streams, so missing
 * means 0) gives the body. CRLFs between messages are keep-alives (RFC 5626
 * §4.4.1): a double CRLF is a ping, a single one a pong or padding.
 *
 * After a framing error the framer is dead: `error` is set and every later
 * push returns nothing, because the stream can no longer be resynchronised.
 */
export class StreamFramer {
  readonly #max: number;
  readonly #onPing: (() => void) | undefined;
  #buf: Buffer = EMPTY;
  /** Where to resume looking for the blank line, so a slow header is not rescanned. */
  #scanFrom = 0;
  /** Total size of the message at the head once its headers are known. */
  #pendingTotal = -1;
  #error: TransportError | undefined;

  constructor(opts: StreamFramerOptions) {
    this.#max = opts.maxMessageSize;
    this.#onPing = opts.onPing;
  }

  /** The framing error that stopped this framer, if any. */
  get error(): TransportError | undefined {
    return this.#error;
  }

  /** Bytes held back waiting for the rest of a message. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Feeds one chunk; returns every message it completed (copies, in order). */
  push(chunk: Buffer): Buffer[] {
    if (this.#error) return [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (!this.#error && this.#skipKeepAlives() && this.#buf.length > 0) {
      const msg = this.#nextMessage();
      if (!msg) break;
      out.push(msg);
    }
    return out;
  }

  /** Consumes leading CR/LF; returns false when it must wait for more bytes to decide. */
  #skipKeepAlives(): boolean {
    const b = this.#buf;
    let i = 0;
    let ok = true;
    while (i < b.length && (b[i] === CR || b[i] === LF)) {
      if (b[i] === LF) {
        i += 1; // a bare LF is sloppy padding, not a keep-alive
        continue;
      }
      if (i + 1 >= b.length) { ok = false; break; }
      if (b[i + 1] !== LF) { i += 1; continue; }
      if (i + 3 < b.length && b[i + 2] === CR && b[i + 3] === LF) {
        i += 4;
        this.#onPing?.();
        continue;
      }
      // "\r\n" or "\r\n\r" at the end may be the first half of a ping
      if (i + 2 >= b.length || (i + 3 >= b.length && b[i + 2] === CR)) { ok = false; break; }
      i += 2;
    }
    if (i > 0) {
      this.#buf = b.subarray(i);
      this.#scanFrom = 0;
    }
    return ok;
  }

  #nextMessage(): Buffer | undefined {
    const b = this.#buf;
    if (this.#pendingTotal < 0) {
      const end = b.indexOf(HEADER_END, Math.max(0, this.#scanFrom - 3));
      if (end < 0) {
        if (b.length > this.#max) this.#fail(TransportErrorCode.TOO_LARGE, `headers exceed ${this.#max} bytes`);
        this.#scanFrom = b.length;
        return undefined;
      }
      const length = contentLength(b.subarray(0, end));
      if (typeof length === 'string') {
        this.#fail(TransportErrorCode.FRAMING, length);
        return undefined;
      }
      this.#pendingTotal = end + HEADER_END.length + length;
      if (this.#pendingTotal > this.#max) {
        this.#fail(TransportErrorCode.TOO_LARGE, `message of ${this.#pendingTotal} bytes exceeds ${this.#max}`);
        return undefined;
      }
    }
    if (b.length < this.#pendingTotal) return undefined;
    // copy, so a small message does not pin a large pipelined chunk in memory
    const msg = Buffer.from(b.subarray(0, this.#pendingTotal));
    this.#buf = b.subarray(this.#pendingTotal);
    this.#pendingTotal = -1;
    this.#scanFrom = 0;
    return msg;
  }

  #fail(code: typeof TransportErrorCode.FRAMING | typeof TransportErrorCode.TOO_LARGE, reason: string): void {
    this.#error = new TransportError(code, `stream framing failed: ${reason}; the connection is closed`);
    this.#buf = EMPTY;
  }
}

/** Content-Length (or compact `l`) of a header block; a string is the reason it is unusable. */
export function contentLength(head: Buffer): number | string {
  const lines = head.toString('latin1').split('\r\n');
  let found: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i]!;
    // RFC 3261 §7.3.1 line folding: a continuation starts with SP or HTAB
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) line += ' ' + lines[++i]!.trim();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(value)) return `Content-Length "${value}" is not a number`;
    const n = Number(value);
    if (found !== undefined && found !== n) return `conflicting Content-Length values ${found} and ${n}`;
    found = n;
  }
  return found ?? 0;
}
