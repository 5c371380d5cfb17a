/**
 * Request-Line and Status-Line (RFC 3261 §7.1, §7.2). Elements are separated
 * by exactly one SP; RFC 4475 §3.1.2.8–10 make extra or trailing spaces errors.
 */
import { SipMessage } from './sip-message.ts';
import { SipParseError } from './parse-error.ts';
import { isDigits, isToken } from './scan.ts';

function isSipVersion(v: string): boolean {
  return v.length > 4 && v.slice(0, 4).toUpperCase() === 'SIP/';
}

/** 505 for SIP/x.y other than 2.0, 400 for something that is no SIP version at all. */
function checkVersion(v: string): SipParseError | undefined {
  if (!isSipVersion(v)) return new SipParseError('SIP_ERR_BAD_START_LINE', `"${v.slice(0, 40)}" is not a SIP version`);
  const num = v.slice(4);
  const dot = num.indexOf('.');
  if (dot < 0 || !isDigits(num.slice(0, dot)) || !isDigits(num.slice(dot + 1))) {
    return new SipParseError('SIP_ERR_BAD_START_LINE', `"${v.slice(0, 40)}" is not a SIP version`);
  }
  if (num !== '2.0') return new SipParseError('SIP_ERR_BAD_VERSION', `${v.slice(0, 40)}`);
  return undefined;
}

/**
 * Always returns a message (best effort, for `partial`) and, when the line is
 * bad, the error to throw once the headers have been read.
 */
export function parseStartLine(line: string): { msg: SipMessage; error?: SipParseError } {
  if (isSipVersion(line.slice(0, 5))) return parseStatusLine(line);
  const sp1 = line.indexOf(' ');
  const method = sp1 < 0 ? line : line.slice(0, sp1);
  const msg = SipMessage.request(isToken(method) ? method : '', '');
  if (!isToken(method)) return { msg, error: new SipParseError('SIP_ERR_BAD_START_LINE', `bad method in "${line.slice(0, 80)}"`) };
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0 || sp2 === sp1 + 1) {
    return { msg, error: new SipParseError('SIP_ERR_BAD_START_LINE', `request line must be "METHOD URI SIP/2.0": "${line.slice(0, 80)}"`) };
  }
  msg.uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (version.indexOf('\t') >= 0) return { msg, error: new SipParseError('SIP_ERR_BAD_START_LINE', 'tab in request line') };
  const error = checkVersion(version);
  if (error) return { msg, error };
  msg.version = 'SIP/2.0';
  return { msg };
}

function parseStatusLine(line: string): { msg: SipMessage; error?: SipParseError } {
  const sp1 = line.indexOf(' ');
  const msg = SipMessage.response(0, '');
  if (sp1 < 0) return { msg, error: new SipParseError('SIP_ERR_BAD_START_LINE', `status line without a code: "${line.slice(0, 80)}"`) };
  const versionError = checkVersion(line.slice(0, sp1));
  let sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 < 0) sp2 = line.length;
  const code = line.slice(sp1 + 1, sp2);
  msg.reason = line.slice(sp2 + 1);
  if (code.length !== 3 || !isDigits(code) || code < '100') {
    return { msg, error: new SipParseError('SIP_ERR_BAD_START_LINE', `bad status code "${code.slice(0, 20)}"`) };
  }
  msg.status = Number(code);
  if (versionError) return { msg, error: versionError };
  return { msg };
}
