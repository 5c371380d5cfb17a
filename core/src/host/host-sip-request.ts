/**
 * A request the embedded engine handed to the host without the wire
 * (SipEngine.serveHost), seen through the slice of drachtio-srf's request
 * and response objects the core's registrar uses (registrar/srf-types.ts):
 * the same code answers it whichever way it came.
 */
import type { HostAnswer, HostRequest } from '../sip-engine/host-requests.ts';
import { canonicalHeaderName } from '../sip-engine/message/index.ts';
import type { SrfReq, SrfRes } from '../registrar/srf-types.ts';

export class HostSipRequest implements SrfReq {
  readonly method: string;
  readonly uri: string;
  readonly protocol: string;
  readonly source_address: string;
  readonly source_port: number;
  readonly body: string;
  locals?: Record<string, unknown>;
  readonly #headers: HostRequest['headers'];

  constructor(r: HostRequest) {
    this.method = r.method;
    this.uri = r.uri;
    this.protocol = r.transport;
    this.source_address = r.address;
    this.source_port = r.port;
    this.body = r.body;
    this.#headers = r.headers;
  }

  /** Every line's value of a header (compact forms too), in order. */
  getRawHeaders(name: string): string[] {
    const key = canonicalHeaderName(name);
    const out: string[] = [];
    for (const [n, v] of this.#headers) if (canonicalHeaderName(n) === key) out.push(v);
    return out;
  }

  /** As drachtio-srf's: several lines of one header come joined by commas. */
  get(name: string): string | undefined {
    const values = this.getRawHeaders(name);
    return values.length ? values.join(',') : undefined;
  }
}

interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
}

export class HostSipResponse implements SrfRes {
  finalResponseSent = false;
  readonly #id: string;
  readonly #answer: (a: HostAnswer) => void;

  constructor(id: string, answer: (a: HostAnswer) => void) {
    this.#id = id;
    this.#answer = answer;
  }

  /** res.send(status[, reason][, { headers, body }]) as in drachtio-srf; a second final response is ignored. */
  send(status: number, reason?: string | object, opts?: object): void {
    if (this.finalResponseSent) return;
    const o = (typeof reason === 'object' ? reason : opts) as SendOptions | undefined;
    const headers: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(o?.headers ?? {})) headers.push(...headerLines(name, String(value)));
    if (status >= 200) this.finalResponseSent = true;
    this.#answer({
      id: this.#id,
      status,
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(headers.length ? { headers } : {}),
      ...(o?.body ? { body: o.body } : {}),
    });
  }
}

/**
 * One header value as header lines. drachtio-srf writes a value verbatim
 * into the message, so callers put several lines of one header in one value
 * joined by `\r\nName: ` (the registrar's challenges, one per algorithm).
 */
function headerLines(name: string, value: string): Array<[string, string]> {
  const [first, ...rest] = value.split('\r\n');
  const out: Array<[string, string]> = [[name, first!]];
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return out;
}
