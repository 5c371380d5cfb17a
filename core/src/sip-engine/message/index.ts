export { SipMessage, splitHeaderList } from './sip-message.ts';
export type { SipHeader, SipMessageKind } from './sip-message.ts';
export { canonicalHeaderName, LIST_HEADERS } from './header-names.ts';
export { parseMessage, DEFAULT_PARSE_LIMITS } from './parser.ts';
export type { ParseLimits } from './parser.ts';
export { SipParseError, SIP_PARSE_ERRORS } from './parse-error.ts';
export type { SipParseErrorCode } from './parse-error.ts';
export { parseUri, formatUri, uriParam, hostportOf } from './uri.ts';
export type { SipUri } from './uri.ts';
export {
  parseVia, formatVia, viaParam, parseNameAddr, formatNameAddr, nameAddrParam, parseCSeq, tagOf, parseParams,
} from './header-parsers.ts';
export type { Via, NameAddr, CSeq } from './header-parsers.ts';
