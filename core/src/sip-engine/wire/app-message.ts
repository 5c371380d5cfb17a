/**
 * Lenient reader for SIP messages written by apps: they are partial by
 * design (no Via, often no Call-ID or CSeq) and the engine completes them,
 * so the network parser's mandatory-header checks do not apply here.
 */
import { SipMessage } from '../message/index.ts';
import { conventionalCase } from '../message/header-names.ts';
import { SipEngineError } from '../errors.ts';

export function readAppMessage(raw: string): SipMessage {
  const sep = raw.indexOf('\r\n\r\n');
  const head = sep < 0 ? raw : raw.slice(0, sep);
  const body = sep < 0 ? '' : raw.slice(sep + 4);
  const lines = head.split(/\r?\n/);
  const start = (lines.shift() ?? '').trim();
  let msg: SipMessage;
  const st = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/i.exec(start);
  if (st) {
    msg = SipMessage.response(Number(st[1]), st[2] ?? '');
  } else {
    const rq = /^([A-Za-z][A-Za-z0-9.!%*_+`'~-]*)\s+(\S+)\s+SIP\/2\.0$/i.exec(start);
    if (!rq) throw new SipEngineError('SIP_ERR_BAD_APP_MESSAGE', `start line '${start.slice(0, 80)}'`);
    msg = SipMessage.request(rq[1]!.toUpperCase(), rq[2]!);
  }
  for (const line of lines) {
    if (!line) continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && msg.headers.length) {
      const last = msg.headers[msg.headers.length - 1]!;
      last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipEngineError('SIP_ERR_BAD_APP_MESSAGE', `header line '${line.slice(0, 80)}'`);
    msg.headers.push({ name: conventionalCase(line.slice(0, colon).trim()), value: line.slice(colon + 1).trim() });
  }
  msg.body = Buffer.from(body, 'utf8');
  msg.remove('content-length');
  return msg;
}
