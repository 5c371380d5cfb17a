/**
 * Character classes and small scanners shared by the header and URI parsers.
 * Everything here is a single forward pass over the input: no regular
 * expressions, so hostile input cannot trigger backtracking.
 */
import { SipParseError } from './parse-error.ts';

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** RFC 3261 token. */
const TOKEN = table("-.!%*_+`'~", true);
/** Characters a generic-param value may hold unquoted: token plus host (IPv6) characters. */
const PARAM_VALUE = table("-.!%*_+`'~[]:/", true);

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** True when every character is an ASCII digit (and there is at least one). */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Parse a run of digits as an integer no larger than max; undefined when the
 * text is not all digits or exceeds max (checked before it can lose precision).
 */
export function parseBoundedInt(s: string, max: number): number | undefined {
  if (!isDigits(s)) return undefined;
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  if (s.length - i > 16) return undefined;
  const n = Number(s.slice(i));
  return n <= max ? n : undefined;
}

/**
 * Index just past the closing quote of a quoted-string starting at i (which
 * must be a DQUOTE), honouring backslash escapes; -1 when unterminated.
 */
export function endOfQuoted(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

export function unquote(q: string): string {
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    const c = q[i]!;
    if (c === '\\' && i + 1 < q.length - 1) out += q[++i];
    else out += c;
  }
  return out;
}

export function quote(s: string): string {
  let out = '"';
  for (const c of s) out += c === '"' || c === '\\' ? '\\' + c : c;
  return out + '"';
}

export type Params = Array<[string, string | null]>;

/**
 * Parse header parameters `;name[=value]` (RFC 3261 generic-param) from
 * position `start`. SWS is allowed around ';' and '='. Quoted values are kept
 * with their quotes so they serialise back unchanged. Throws on an empty name,
 * an unterminated quote or trailing garbage.
 */
export function parseParams(s: string, start = 0, what = 'parameters'): Params {
  const out: Params = [];
  let i = skipWs(s, start);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 59 /* ; */) throw bad(what, `unexpected "${s[i]}" in "${s}"`);
    i = skipWs(s, i + 1);
    const ns = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === ns) throw bad(what, `empty parameter name in "${s}"`);
    const name = s.slice(ns, i);
    i = skipWs(s, i);
    let value: string | null = null;
    if (i < s.length && s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 34) {
        const e = endOfQuoted(s, i);
        if (e < 0) throw bad(what, `unterminated quoted string in "${s}"`);
        value = s.slice(i, e);
        i = e;
      } else {
        const vs = i;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          // Non-ASCII is tolerated in values: some peers put UTF-8 there.
          if (c < 128 && PARAM_VALUE[c] !== 1) break;
          i++;
        }
        if (i === vs) throw bad(what, `parameter "${name}" has "=" but no value in "${s}"`);
        value = s.slice(vs, i);
      }
      i = skipWs(s, i);
    }
    out.push([name, value]);
  }
  return out;
}

export function findParam(params: Params, name: string): string | null | undefined {
  const key = name.toLowerCase();
  for (const [k, v] of params) if (k.length === key.length && k.toLowerCase() === key) return v;
  return undefined;
}

export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

function bad(what: string, detail: string): SipParseError {
  return new SipParseError('SIP_ERR_BAD_HEADER', `${what}: ${detail}`);
}

/**
 * Strip SP and HTAB only: String.prototype.trim also eats U+FEFF, NBSP and
 * other Unicode spaces that are part of a header value's content.
 */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
