/**
 * parseMessage: one complete SIP message (a UDP datagram, or one message the
 * stream transports framed) into a SipMessage, per RFC 3261 §7 and the
 * robustness rules of RFC 4475. Syntax problems are collected while reading so
 * the start line and headers can still be handed back as `partial` for a 400.
 */
import { SipMessage } from './sip-message.ts';
import { SipParseError } from './parse-error.ts';
import { isToken, isWs, trimWs } from './scan.ts';
import { parseStartLine } from './start-line.ts';
import { validateMessage } from './message-validate.ts';

export interface ParseLimits {
  /** Bytes in the whole message, body included (513 beyond it). */
  maxMessageSize: number;
  /** Header fields (lines after unfolding). */
  maxHeaders: number;
  /** Characters in one unfolded header field or the start line. */
  maxHeaderLineLength: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxHeaderLineLength: 8192,
});

/** Where the header block ends: [start, headEnd) is head text, body starts at bodyStart. */
function findHeadEnd(data: Buffer, start: number, stop: number): { headEnd: number; bodyStart: number } | undefined {
  let pos = start;
  while (pos < stop) {
    const lf = data.indexOf(0x0a, pos);
    if (lf < 0 || lf >= stop) return undefined;
    const next = lf + 1;
    if (data[next] === 0x0a) return { headEnd: lf, bodyStart: next + 1 };
    if (data[next] === 0x0d && data[next + 1] === 0x0a) return { headEnd: lf, bodyStart: next + 2 };
    pos = next;
  }
  return undefined;
}

function tooLarge(detail: string, partial?: SipMessage): SipParseError {
  return new SipParseError('SIP_ERR_TOO_LARGE', detail, partial);
}

/**
 * Read header lines into msg, unfolding continuations. Returns the first
 * syntax error (the rest of the lines are still read); limit breaches throw.
 */
function readHeaders(lines: string[], msg: SipMessage, limits: ParseLimits): SipParseError | undefined {
  let firstError: SipParseError | undefined;
  let name = '';
  let value = '';
  let open = false;
  const flush = (): void => {
    if (!open) return;
    if (msg.headers.length >= limits.maxHeaders) throw tooLarge(`more than ${limits.maxHeaders} header fields`, msg);
    msg.headers.push({ name, value: trimWs(value) });
    open = false;
  };
  for (let n = 1; n < lines.length; n++) {
    const line = stripCr(lines[n]!);
    // A CR is only legal as part of a line end; NUL and other controls may
    // appear inside quoted strings (RFC 4475 §3.1.1.2), so they are kept.
    if (line.indexOf('\r') >= 0) {
      firstError ??= new SipParseError('SIP_ERR_BAD_HEADER', `stray CR in header line ${n + 1}`);
      continue;
    }
    if (isWs(line.charCodeAt(0))) {
      if (!open) {
        firstError ??= new SipParseError('SIP_ERR_BAD_HEADER', `continuation line ${n + 1} without a header`);
        continue;
      }
      // LWS folding: the line break and surrounding whitespace become one space.
      value = trimWs(value) + ' ' + trimWs(line);
      if (name.length + value.length > limits.maxHeaderLineLength) {
        throw tooLarge(`header ${name} longer than ${limits.maxHeaderLineLength} characters`, msg);
      }
      continue;
    }
    flush();
    if (line.length > limits.maxHeaderLineLength) {
      throw tooLarge(`header line ${n + 1} longer than ${limits.maxHeaderLineLength} characters`, msg);
    }
    const colon = line.indexOf(':');
    const hname = colon < 0 ? '' : trimWs(line.slice(0, colon));
    if (!isToken(hname)) {
      firstError ??= new SipParseError('SIP_ERR_BAD_HEADER', `line ${n + 1} is not "name: value": "${line.slice(0, 80)}"`);
      continue;
    }
    name = hname;
    value = line.slice(colon + 1);
    open = true;
  }
  flush();
  return firstError;
}

/** Parse exactly one SIP message. Throws SipParseError, never anything else. */
export function parseMessage(data: Buffer, limits?: Partial<ParseLimits>): SipMessage {
  const lim: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...limits };
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  if (start === data.length) throw new SipParseError('SIP_ERR_BAD_START_LINE', 'empty message');
  // Never look further than a legal head could reach.
  const stop = Math.min(data.length, start + lim.maxMessageSize);
  const bounds = findHeadEnd(data, start, stop);
  if (!bounds) {
    if (data.length - start > lim.maxMessageSize) throw tooLarge(`message larger than ${lim.maxMessageSize} bytes`);
    const lf = data.indexOf(0x0a, start);
    if (lf >= 0 && lf < stop) {
      // Read what there is so a server can still answer 400.
      const partial = readPartial(data.toString('utf8', start, stop), lim);
      throw new SipParseError('SIP_ERR_TRUNCATED', 'no empty line after the headers', partial);
    }
    throw new SipParseError('SIP_ERR_TRUNCATED', 'no line break after the start line');
  }
  const lines = data.toString('utf8', start, bounds.headEnd).split('\n');
  const first = stripCr(lines[0]!);
  if (first.length > lim.maxHeaderLineLength) throw tooLarge(`start line longer than ${lim.maxHeaderLineLength} characters`);
  const { msg, error: startError } = parseStartLine(first);
  const headerError = readHeaders(lines, msg, lim);
  if (data.length - start > lim.maxMessageSize) throw tooLarge(`message larger than ${lim.maxMessageSize} bytes`, msg);
  if (startError) {
    startError.partial = msg;
    throw startError;
  }
  if (headerError) {
    headerError.partial = msg;
    throw headerError;
  }
  const contentLength = validateMessage(msg);
  const available = data.length - bounds.bodyStart;
  let length = available;
  if (contentLength !== undefined) {
    if (contentLength > available) {
      throw new SipParseError('SIP_ERR_CONTENT_LENGTH', `Content-Length ${contentLength} but only ${available} body bytes`, msg);
    }
    length = contentLength;
  }
  // Copy so the message does not pin a larger receive buffer.
  if (length > 0) msg.body = Buffer.from(data.subarray(bounds.bodyStart, bounds.bodyStart + length));
  return msg;
}

function readPartial(text: string, lim: ParseLimits): SipMessage | undefined {
  const lines = text.split('\n');
  const first = stripCr(lines[0]!);
  if (first.length > lim.maxHeaderLineLength) return undefined;
  const { msg } = parseStartLine(first);
  try {
    readHeaders(lines, msg, lim);
  } catch {
    // Limits hit while salvaging: the headers read so far are still useful.
  }
  return msg;
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
