/**
 * Message-level checks after the headers are read: mandatory and
 * single-valued fields, CSeq against the method, numeric ranges and the
 * Request-URI (RFC 3261 §8.1.1, §20; RFC 4475 §3.1.2 and §3.3).
 */
import { canonicalHeaderName } from './header-names.ts';
import { parseCSeq, parseNameAddr, parseVia } from './header-parsers.ts';
import { SipParseError } from './parse-error.ts';
import { isWs, parseBoundedInt } from './scan.ts';
import { splitHeaderList, type SipMessage } from './sip-message.ts';
import { parseUri } from './uri.ts';

const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'] as const;
const SINGLE = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length']);
const NAME_ADDR_LISTS = new Set(['contact', 'route', 'record-route']);
const MAX_DELTA = 2 ** 32 - 1;
/** Far beyond any limit the parser accepts, yet exact in a double. */
const MAX_CONTENT_LENGTH = 2 ** 32 - 1;

function fail(header: string, detail: string): SipParseError {
  return new SipParseError('SIP_ERR_BAD_HEADER', `${header}: ${detail}`);
}

/** Leading delta-seconds of a value such as `18000;duration=3600` or `3600 (comment)`. */
function leadingNumber(value: string): string {
  let i = 0;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  return value.slice(0, i);
}

function checkDelta(header: string, value: string, whole: boolean): void {
  const digits = whole ? value : leadingNumber(value);
  if (parseBoundedInt(digits, MAX_DELTA) === undefined) throw fail(header, `"${value.slice(0, 60)}" is not a number of seconds below 2^32`);
}

function checkNameAddrs(header: string, value: string, allowStar: boolean): void {
  if (allowStar && value.trim() === '*') return;
  for (const part of splitHeaderList(value)) {
    const na = parseNameAddr(part, header);
    if (header === 'Contact') {
      for (const [k, v] of na.params) {
        if (k.toLowerCase() === 'expires' && v !== null && v.charCodeAt(0) !== 34) checkDelta('Contact expires', v, true);
      }
    }
  }
}

function checkWarning(value: string): void {
  for (const part of splitHeaderList(value)) {
    let i = 0;
    while (i < part.length && part.charCodeAt(i) >= 48 && part.charCodeAt(i) <= 57) i++;
    if (i !== 3 || !isWs(part.charCodeAt(3))) throw fail('Warning', `warn-code must be 3 digits in "${part.slice(0, 60)}"`);
  }
}

/** From/To hold one name-addr; a comma-joined pair of good ones is a duplicate, not a syntax error. */
function checkSingleNameAddr(name: string, value: string): void {
  try {
    parseNameAddr(value, name);
  } catch (err) {
    const parts = splitHeaderList(value);
    if (parts.length < 2) throw err;
    for (const p of parts) {
      try {
        parseNameAddr(p, name);
      } catch {
        throw err;
      }
    }
    throw new SipParseError('SIP_ERR_DUPLICATE_HEADER', `${name} carries ${parts.length} values`);
  }
}

/** Validate one header by its canonical name; unknown headers pass verbatim. */
function checkHeader(key: string, name: string, value: string): void {
  switch (key) {
    case 'via': {
      const parts = splitHeaderList(value);
      if (parts.length === 0) throw fail(name, 'empty');
      for (const v of parts) parseVia(v);
      return;
    }
    case 'from':
    case 'to':
      checkSingleNameAddr(name, value);
      return;
    case 'contact':
      checkNameAddrs('Contact', value, true);
      return;
    case 'route':
    case 'record-route':
      checkNameAddrs(name, value, false);
      return;
    case 'call-id':
      if (value.length === 0) throw fail(name, 'empty');
      for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) <= 32) throw fail(name, 'contains whitespace');
      return;
    case 'max-forwards':
      if (parseBoundedInt(value, 255) === undefined) throw fail(name, `"${value.slice(0, 60)}" is not 0..255`);
      return;
    case 'expires':
      checkDelta(name, value, true);
      return;
    case 'min-expires':
      checkDelta(name, value, true);
      return;
    case 'retry-after':
      checkDelta(name, value, false);
      return;
    case 'warning':
      checkWarning(value);
      return;
    case 'date':
      // RFC 3261 §20.17: the only time zone allowed is GMT (RFC 4475 §3.1.2.12).
      if (!value.endsWith(' GMT')) throw fail(name, 'time zone must be GMT');
      return;
  }
}

function attach(err: unknown, msg: SipMessage): never {
  if (err instanceof SipParseError) {
    err.partial = msg;
    throw err;
  }
  throw err;
}

/** Throws SipParseError (with msg as partial); returns the Content-Length when present. */
export function validateMessage(msg: SipMessage): number | undefined {
  const counts = new Map<string, number>();
  let contentLength: number | undefined;
  let cseqRaw: string | undefined;
  try {
    for (const h of msg.headers) {
      const key = canonicalHeaderName(h.name);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (key === 'content-length') {
        contentLength = parseBoundedInt(h.value, MAX_CONTENT_LENGTH);
        if (contentLength === undefined) throw new SipParseError('SIP_ERR_CONTENT_LENGTH', `"${h.value.slice(0, 60)}" is not a length`);
      } else if (key === 'cseq') {
        cseqRaw = h.value;
      } else {
        checkHeader(key, h.name, h.value);
      }
    }
    for (const key of MANDATORY) {
      if (!counts.has(key)) throw new SipParseError('SIP_ERR_MISSING_HEADER', `no ${key} header`);
    }
    for (const [key, n] of counts) {
      if (n > 1 && SINGLE.has(key)) {
        const code = key === 'content-length' ? 'SIP_ERR_CONTENT_LENGTH' : 'SIP_ERR_DUPLICATE_HEADER';
        throw new SipParseError(code, `${n} ${key} headers`);
      }
    }
    const cseq = parseCSeq(cseqRaw!);
    if (msg.isRequest) {
      if (cseq.method !== msg.method) {
        throw new SipParseError('SIP_ERR_BAD_CSEQ', `CSeq method ${cseq.method} but request method ${msg.method}`);
      }
      const uri = parseUri(msg.uri);
      if (uri.scheme !== 'tel' && uri.headers !== undefined) {
        throw new SipParseError('SIP_ERR_BAD_URI', 'a Request-URI must not carry headers (RFC 3261 §19.1.5)');
      }
    }
  } catch (err) {
    attach(err, msg);
  }
  return contentLength;
}
