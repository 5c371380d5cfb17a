/**
 * The engine's model of one SIP message. Headers are kept in arrival order
 * with their names as received, so unknown headers and parameters survive
 * verbatim; lookups are case-insensitive and understand compact forms.
 */
import { canonicalHeaderName } from './header-names.ts';
import { trimWs } from './scan.ts';

export interface SipHeader {
  /** The name as received or as set (not normalised). */
  name: string;
  /** The value with line folding already collapsed to one space. */
  value: string;
}

export type SipMessageKind = 'request' | 'response';

export class SipMessage {
  kind: SipMessageKind;
  method = '';
  uri = '';
  status = 0;
  reason = '';
  version = 'SIP/2.0';
  headers: SipHeader[] = [];
  body: Buffer = EMPTY;

  constructor(kind: SipMessageKind) {
    this.kind = kind;
  }

  get isRequest(): boolean {
    return this.kind === 'request';
  }

  static request(method: string, uri: string): SipMessage {
    const m = new SipMessage('request');
    m.method = method;
    m.uri = uri;
    return m;
  }

  static response(status: number, reason: string): SipMessage {
    const m = new SipMessage('response');
    m.status = status;
    m.reason = reason;
    return m;
  }

  /** First value of a header (compact forms accepted), or undefined. */
  get(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    for (const h of this.headers) {
      if (canonicalHeaderName(h.name) === key) return h.value;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every header line's value for this name, in order (not split on commas). */
  getRaw(name: string): string[] {
    const key = canonicalHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (canonicalHeaderName(h.name) === key) out.push(h.value);
    return out;
  }

  /** Every value for this name, comma-joined lists split outside quotes and <>. */
  getAll(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getRaw(name)) out.push(...splitHeaderList(v));
    return out;
  }

  /** Replace all occurrences of a header by one value (added at the end if absent). */
  set(name: string, value: string): void {
    const key = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => canonicalHeaderName(h.name) === key);
    if (i < 0) {
      this.headers.push({ name, value });
      return;
    }
    this.headers[i] = { name: this.headers[i]!.name, value };
    this.headers = this.headers.filter((h, j) => j <= i || canonicalHeaderName(h.name) !== key);
  }

  append(name: string, value: string): void {
    this.headers.push({ name, value });
  }

  /** Insert before the first header of this name (Via, Record-Route) or at the top. */
  prepend(name: string, value: string): void {
    const key = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => canonicalHeaderName(h.name) === key);
    this.headers.splice(i < 0 ? 0 : i, 0, { name, value });
  }

  remove(name: string): void {
    const key = canonicalHeaderName(name);
    this.headers = this.headers.filter((h) => canonicalHeaderName(h.name) !== key);
  }

  /** Remove the first value of a (possibly comma-joined) header, e.g. the top Via. */
  removeFirst(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => canonicalHeaderName(h.name) === key);
    if (i < 0) return undefined;
    const parts = splitHeaderList(this.headers[i]!.value);
    const first = parts.shift();
    if (parts.length === 0) this.headers.splice(i, 1);
    else this.headers[i] = { name: this.headers[i]!.name, value: parts.join(', ') };
    return first;
  }

  startLine(): string {
    return this.kind === 'request'
      ? `${this.method} ${this.uri} ${this.version}`
      : `${this.version} ${this.status} ${this.reason}`;
  }

  /** Serialise; Content-Length is always rewritten to the body's byte length. */
  toBuffer(): Buffer {
    const h = Buffer.from(this.#head(), 'utf8');
    return this.body.length ? Buffer.concat([h, this.body]) : h;
  }

  /** The message as text (for the app wire), without a round trip through a Buffer. */
  toString(): string {
    const head = this.#head();
    return this.body.length ? head + this.body.toString('utf8') : head;
  }

  #head(): string {
    let head = this.startLine() + '\r\n';
    let sawLength = false;
    for (const h of this.headers) {
      if (canonicalHeaderName(h.name) === 'content-length') {
        if (sawLength) continue;
        sawLength = true;
        head += `${h.name}: ${this.body.length}\r\n`;
      } else {
        head += `${h.name}: ${h.value}\r\n`;
      }
    }
    if (!sawLength) head += `Content-Length: ${this.body.length}\r\n`;
    head += '\r\n';
    return head;
  }

  clone(): SipMessage {
    const m = new SipMessage(this.kind);
    m.method = this.method;
    m.uri = this.uri;
    m.status = this.status;
    m.reason = this.reason;
    m.version = this.version;
    m.headers = this.headers.map((h) => ({ ...h }));
    m.body = this.body;
    return m;
  }
}

const EMPTY = Buffer.alloc(0);

/** Split a comma-joined header value, honouring quotes, escapes and <...>. */
export function splitHeaderList(value: string): string[] {
  // Most values hold one element: skip the scan.
  if (value.indexOf(',') < 0) {
    const only = trimWs(value);
    return only ? [only] : [];
  }
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 60 /* < */) depth++;
    else if (c === 62 /* > */ && depth > 0) depth--;
    else if (c === 44 /* , */ && depth === 0) {
      const part = trimWs(value.slice(start, i));
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = trimWs(value.slice(start));
  if (last) out.push(last);
  return out;
}
