/**
 * Coded errors of the SIP message parser. Each code carries the SIP status a
 * server should answer with, so the engine can reply without re-deriving it.
 */
import type { SipMessage } from './sip-message.ts';

interface ParseErrorSpec {
  status: number;
  message: string;
}

/** The parser's error registry: code → SIP status and what the code means. */
export const SIP_PARSE_ERRORS = {
  SIP_ERR_BAD_START_LINE: { status: 400, message: 'malformed request or status line' },
  SIP_ERR_BAD_VERSION: { status: 505, message: 'unsupported SIP version (only SIP/2.0 is spoken)' },
  SIP_ERR_BAD_URI: { status: 400, message: 'malformed URI' },
  SIP_ERR_BAD_URI_SCHEME: { status: 416, message: 'unsupported URI scheme (sip, sips and tel are understood)' },
  SIP_ERR_BAD_HEADER: { status: 400, message: 'malformed header field' },
  SIP_ERR_MISSING_HEADER: { status: 400, message: 'mandatory header field missing' },
  SIP_ERR_DUPLICATE_HEADER: { status: 400, message: 'single-valued header field appears more than once' },
  SIP_ERR_BAD_CSEQ: { status: 400, message: 'malformed CSeq or CSeq method differs from the request method' },
  SIP_ERR_CONTENT_LENGTH: { status: 400, message: 'Content-Length is malformed or disagrees with the body' },
  SIP_ERR_TRUNCATED: { status: 400, message: 'message ends before the empty line that closes the headers' },
  SIP_ERR_TOO_LARGE: { status: 513, message: 'message exceeds a parser limit' },
} as const satisfies Record<string, ParseErrorSpec>;

export type SipParseErrorCode = keyof typeof SIP_PARSE_ERRORS;

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  readonly code: SipParseErrorCode;
  /** SIP status a server should answer with (400, 416, 505, 513). */
  readonly status: number;
  /**
   * Start line and headers as far as they could be read, so a server can build
   * a response; absent when nothing usable was parsed.
   */
  partial?: SipMessage;

  constructor(code: SipParseErrorCode, detail: string, partial?: SipMessage) {
    const spec = SIP_PARSE_ERRORS[code];
    super(`${spec.message}: ${detail}`);
    this.code = code;
    this.status = spec.status;
    if (partial) this.partial = partial;
  }
}
