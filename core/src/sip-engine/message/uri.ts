/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966). Other schemes are
 * refused with SIP_ERR_BAD_URI_SCHEME (416) since the engine cannot route them;
 * header fields may still carry them, which is why name-addr parsing does not
 * go through here.
 */
import { SipParseError } from './parse-error.ts';
import { findParam, formatParams, parseBoundedInt, type Params } from './scan.ts';

export interface SipUri {
  /** Lower-case scheme: sip, sips or tel. */
  scheme: string;
  /** User part as received (still %-escaped). */
  user?: string;
  password?: string;
  /** Host name or address, IPv6 without brackets; for tel: the number. */
  host: string;
  port?: number;
  /** URI parameters as received (names and values still %-escaped). */
  params: Array<[string, string | null]>;
  /** The header part after '?', as received. */
  headers?: string;
  /** The text this was parsed from. */
  raw: string;
}

const HEX = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return c < 128 && HEX[c] === 1;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function fail(raw: string, why: string): SipParseError {
  return new SipParseError('SIP_ERR_BAD_URI', `${why} in "${raw.length > 200 ? raw.slice(0, 200) + '…' : raw}"`);
}

/** Scheme of a URI-like string (lower-cased) or undefined when there is none. */
export function uriScheme(s: string): string | undefined {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return undefined;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) return s.slice(0, i).toLowerCase();
    if (!isAlpha(c) && !isDigit(c) && c !== 43 && c !== 45 && c !== 46) return undefined;
  }
  return undefined;
}

/** Throws unless every character is printable ASCII or non-ASCII, and every % starts an escape. */
function checkChars(raw: string, part: string, escapes: boolean): void {
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c <= 32 || c === 127) throw fail(raw, 'whitespace or control character');
    if (c === 60 || c === 62 || c === 34) throw fail(raw, `"${part[i]}" not allowed`);
    if (escapes && c === 37 /* % */) {
      if (!isHex(part.charCodeAt(i + 1)) || !isHex(part.charCodeAt(i + 2))) throw fail(raw, 'bad % escape');
      i += 2;
    }
  }
}

function parseHost(raw: string, s: string, i: number, end: number): { host: string; port?: number } {
  let host: string;
  let j: number;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end) throw fail(raw, 'unclosed IPv6 reference');
    host = s.slice(i + 1, close);
    let colons = 0;
    for (let k = 0; k < host.length; k++) {
      const c = host.charCodeAt(k);
      if (c === 58) colons++;
      else if (!isHex(c) && c !== 46) throw fail(raw, 'bad IPv6 reference');
    }
    if (colons < 2) throw fail(raw, 'bad IPv6 reference');
    j = close + 1;
  } else {
    j = i;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (!isAlpha(c) && !isDigit(c) && c !== 45 && c !== 46 && c !== 95) break;
      j++;
    }
    host = s.slice(i, j);
    if (host.length === 0) throw fail(raw, 'missing host');
  }
  if (j === end) return { host };
  if (s.charCodeAt(j) !== 58 /* : */) throw fail(raw, `unexpected "${s[j]}" after host`);
  const port = parseBoundedInt(s.slice(j + 1, end), 65535);
  if (port === undefined) throw fail(raw, 'bad port');
  return { host, port };
}

/** URI parameters `;a=b;c`: names and values kept as received, empty ones skipped. */
function parseUriParams(raw: string, s: string): Params {
  const out: Params = [];
  if (s.length === 0) return out;
  for (const part of s.split(';')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (name.length === 0) throw fail(raw, 'empty URI parameter name');
    out.push([name, eq < 0 ? null : part.slice(eq + 1)]);
  }
  return out;
}

/** Parse a sip:, sips: or tel: URI. Throws SipParseError (400, or 416 for another scheme). */
export function parseUri(s: string): SipUri {
  const scheme = uriScheme(s);
  if (scheme === undefined) throw fail(s, 'missing or malformed scheme');
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
    throw new SipParseError('SIP_ERR_BAD_URI_SCHEME', `"${scheme}:" in "${s.slice(0, 200)}"`);
  }
  const rest = s.slice(scheme.length + 1);
  checkChars(s, rest, true);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number.length === 0 || number.includes('@') || number.includes('?')) throw fail(s, 'bad telephone number');
    return { scheme, host: number, params: parseUriParams(s, semi < 0 ? '' : rest.slice(semi + 1)), raw: s };
  }
  const uri: SipUri = { scheme, host: '', params: [], raw: s };
  let hostStart = 0;
  // '@' cannot appear unescaped outside the userinfo, so the first one ends it.
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user.length === 0) throw fail(s, 'empty user part');
    uri.user = user;
    if (colon >= 0) uri.password = userinfo.slice(colon + 1);
    hostStart = at + 1;
  }
  let end = rest.length;
  const q = rest.indexOf('?', hostStart);
  if (q >= 0) {
    uri.headers = rest.slice(q + 1);
    end = q;
  }
  let semi = rest.indexOf(';', hostStart);
  if (semi > end) semi = -1;
  const { host, port } = parseHost(s, rest, hostStart, semi < 0 ? end : semi);
  uri.host = host;
  if (port !== undefined) uri.port = port;
  if (semi >= 0) uri.params = parseUriParams(s, rest.slice(semi + 1, end));
  return uri;
}

function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `host[:port]`, with IPv6 addresses in brackets. */
export function hostportOf(u: SipUri): string {
  return u.port === undefined ? bracketHost(u.host) : `${bracketHost(u.host)}:${u.port}`;
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.host}${formatParams(u.params)}`;
  let out = `${u.scheme}:`;
  if (u.user !== undefined) out += u.password === undefined ? `${u.user}@` : `${u.user}:${u.password}@`;
  out += hostportOf(u) + formatParams(u.params);
  if (u.headers !== undefined) out += `?${u.headers}`;
  return out;
}

/** Value of a URI parameter (name compared case-insensitively): null for a flag, undefined when absent. */
export function uriParam(u: SipUri, name: string): string | null | undefined {
  return findParam(u.params, name);
}
