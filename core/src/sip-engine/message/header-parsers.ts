/**
 * Parsers for the header fields the engine itself reads: Via, name-addr
 * headers (From, To, Contact, Route, Record-Route), CSeq. Single forward
 * scans, no regular expressions.
 */
import { SipParseError } from './parse-error.ts';
import {
  endOfQuoted, findParam, formatParams, isTokenChar, isWs, parseBoundedInt, parseParams, quote,
  skipWs, unquote, type Params,
} from './scan.ts';
import { uriScheme } from './uri.ts';

export { parseParams } from './scan.ts';

export interface Via {
  /** "SIP/2.0". */
  protocol: string;
  /** Upper-case: UDP, TCP, TLS, WS, WSS, SCTP, or whatever token the peer sent. */
  transport: string;
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port?: number;
  params: Array<[string, string | null]>;
}

export interface NameAddr {
  /** Display name with quotes and escapes removed. */
  displayName?: string;
  /** The URI as received (inside the angle brackets when there were some). */
  uri: string;
  /** Header parameters (e.g. tag, expires), quoted values kept with their quotes. */
  params: Array<[string, string | null]>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Largest CSeq sequence number RFC 3261 §8.1.1.5 allows. */
const MAX_CSEQ = 2 ** 31 - 1;

function bad(header: string, detail: string, value: string): SipParseError {
  const shown = value.length > 200 ? value.slice(0, 200) + '…' : value;
  return new SipParseError('SIP_ERR_BAD_HEADER', `${header}: ${detail} in "${shown}"`);
}

function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** One Via value (not a comma-joined list): sent-protocol LWS sent-by *(; via-params). */
export function parseVia(value: string): Via {
  const s = value;
  let i = skipWs(s, 0);
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      i = skipWs(s, i);
      if (s.charCodeAt(i) !== 47 /* / */) throw bad('Via', 'malformed sent-protocol', value);
      i = skipWs(s, i + 1);
    }
    const start = i;
    i = scanToken(s, i);
    if (i === start) throw bad('Via', 'malformed sent-protocol', value);
    parts.push(s.slice(start, i));
  }
  if (!isWs(s.charCodeAt(i))) throw bad('Via', 'missing sent-by', value);
  i = skipWs(s, i);
  let host: string;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0) throw bad('Via', 'unclosed IPv6 reference', value);
    host = s.slice(i + 1, close);
    if (host.indexOf(':') < 0) throw bad('Via', 'bad IPv6 reference', value);
    i = close + 1;
  } else {
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
      if (!ok) break;
      i++;
    }
    host = s.slice(start, i);
  }
  if (host.length === 0) throw bad('Via', 'missing host', value);
  const via: Via = { protocol: `${parts[0]!.toUpperCase()}/${parts[1]}`, transport: parts[2]!.toUpperCase(), host, params: [] };
  let j = skipWs(s, i);
  if (s.charCodeAt(j) === 58 /* : */) {
    j = skipWs(s, j + 1);
    const ps = j;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const port = parseBoundedInt(s.slice(ps, j), 65535);
    if (port === undefined) throw bad('Via', 'bad port', value);
    via.port = port;
    i = j;
  }
  via.params = parseParams(s, i, 'Via');
  return via;
}

export function formatVia(v: Via): string {
  const host = v.host.includes(':') ? `[${v.host}]` : v.host;
  const port = v.port === undefined ? '' : `:${v.port}`;
  return `${v.protocol}/${v.transport} ${host}${port}${formatParams(v.params)}`;
}

export function viaParam(v: Via, name: string): string | null | undefined {
  return findParam(v.params, name);
}

/**
 * A name-addr (`"Bob" <sip:b@h;x=y>;tag=1`) or bare addr-spec
 * (`sip:b@h;tag=1`, where the parameters belong to the header, RFC 3261 §20).
 * The URI is checked for a scheme and for no whitespace, not parsed further:
 * headers may carry schemes the engine does not route.
 */
export function parseNameAddr(value: string, header = 'name-addr'): NameAddr {
  const s = value;
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  let bracketed = false;
  if (s.charCodeAt(i) === 34 /* " */) {
    const e = endOfQuoted(s, i);
    if (e < 0) throw bad(header, 'unterminated quoted display name', value);
    displayName = unquote(s.slice(i, e));
    i = skipWs(s, e);
    if (s.charCodeAt(i) !== 60 /* < */) throw bad(header, 'display name not followed by <URI>', value);
    bracketed = true;
  } else {
    // An unquoted display name is tokens separated by LWS; anything else means
    // addr-spec. Non-ASCII is let through: phones do send unquoted UTF-8 names.
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (!isTokenChar(c) && !isWs(c) && c < 128) break;
      j++;
    }
    if (s.charCodeAt(j) === 60) {
      const dn = s.slice(i, j).trim();
      if (dn.length > 0) displayName = dn;
      i = j;
      bracketed = true;
    }
  }
  let uri: string;
  if (bracketed) {
    const close = s.indexOf('>', i + 1);
    if (close < 0) throw bad(header, '"<" without ">"', value);
    uri = s.slice(i + 1, close);
    i = close + 1;
  } else {
    let j = i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 59 /* ; */ || isWs(c)) break;
      if (c === 63 /* ? */ || c === 44 /* , */ || c === 60 || c === 62 || c === 34) {
        throw bad(header, `URI with "${s[j]}" must be enclosed in <>`, value);
      }
      j++;
    }
    uri = s.slice(i, j);
    i = j;
  }
  for (let k = 0; k < uri.length; k++) {
    const c = uri.charCodeAt(k);
    if (c <= 32 || c === 127) throw bad(header, 'whitespace or control character inside URI', value);
  }
  if (uriScheme(uri) === undefined) throw bad(header, 'URI without a scheme', value);
  const na: NameAddr = { uri, params: parseParams(s, i, header) };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** Always in name-addr form, so any URI (with ; ? or ,) survives. */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName === undefined ? '' : `${quote(na.displayName)} `;
  return `${dn}<${na.uri}>${formatParams(na.params)}`;
}

export function nameAddrParam(na: NameAddr, name: string): string | null | undefined {
  return findParam(na.params, name);
}

/** CSeq: 1*DIGIT LWS Method, with the number below 2**31. Throws SIP_ERR_BAD_CSEQ. */
export function parseCSeq(value: string): CSeq {
  const s = value;
  let i = skipWs(s, 0);
  const ns = i;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const seq = parseBoundedInt(s.slice(ns, i), MAX_CSEQ);
  if (seq === undefined) throw new SipParseError('SIP_ERR_BAD_CSEQ', `bad sequence number in "${value.slice(0, 200)}"`);
  if (!isWs(s.charCodeAt(i))) throw new SipParseError('SIP_ERR_BAD_CSEQ', `missing method in "${value.slice(0, 200)}"`);
  i = skipWs(s, i);
  const ms = i;
  i = scanToken(s, i);
  const method = s.slice(ms, i);
  if (method.length === 0 || skipWs(s, i) !== s.length) {
    throw new SipParseError('SIP_ERR_BAD_CSEQ', `bad method in "${value.slice(0, 200)}"`);
  }
  return { seq, method };
}

/** The tag parameter of a From/To value; undefined when absent or unparseable. */
export function tagOf(headerValue: string): string | undefined {
  let na: NameAddr;
  try {
    na = parseNameAddr(headerValue);
  } catch {
    return undefined;
  }
  const tag = findParam(na.params, 'tag');
  return typeof tag === 'string' ? tag : undefined;
}

export type { Params };
