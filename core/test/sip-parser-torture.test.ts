/**
 * RFC 4475 torture messages (plus RFC 5118-style IPv6 and a few extras) from
 * core/test/fixtures/sip: every valid one parses, every invalid one fails with
 * a SipParseError carrying the status a server should answer.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  parseMessage, parseUri, parseVia, parseNameAddr, parseCSeq, tagOf, SipParseError, type SipMessage,
} from '../src/sip-engine/message/index.ts';

const root = fileURLToPath(new URL('./fixtures/sip/', import.meta.url));
const load = (dir: string, name: string): Buffer => readFileSync(`${root}${dir}/${name}.sip`);
const names = (dir: string): string[] =>
  readdirSync(`${root}${dir}`).filter((f) => f.endsWith('.sip')).map((f) => f.slice(0, -4)).sort();

function nonLengthHeaders(m: SipMessage): Array<[string, string]> {
  return m.headers.filter((h) => !/^(content-length|l)$/i.test(h.name)).map((h) => [h.name, h.value]);
}

t.test('every valid fixture parses, survives a round trip and keeps its body', async (t) => {
  const valid = names('valid');
  t.ok(valid.length >= 25, 'fixtures present');
  for (const name of valid) {
    const m = parseMessage(load('valid', name));
    const cl = m.get('content-length');
    if (cl !== undefined) t.equal(m.body.length, Number(cl), `${name}: body is Content-Length bytes`);
    const again = parseMessage(m.toBuffer());
    t.equal(again.startLine(), m.startLine(), `${name}: start line round-trips`);
    t.same(nonLengthHeaders(again), nonLengthHeaders(m), `${name}: headers round-trip verbatim`);
    t.ok(again.body.equals(m.body), `${name}: body round-trips`);
    for (const v of m.getAll('via')) parseVia(v);
    parseCSeq(m.get('cseq')!);
  }
});

t.test('wsinv: whitespace, folding, compact forms and escapes', async (t) => {
  const m = parseMessage(load('valid', 'wsinv'));
  t.equal(m.method, 'INVITE');
  t.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
  t.same(parseCSeq(m.get('CSeq')!), { seq: 9, method: 'INVITE' });
  t.equal(m.get('max-forwards'), '0068');
  t.equal(tagOf(m.get('to')!), '1918181833n');
  const from = parseNameAddr(m.get('from')!);
  t.equal(from.displayName, 'J Rosenberg \\"');
  t.equal(from.uri, 'sip:jdrosen@example.com');
  t.equal(tagOf(m.get('from')!), '98asjd8');
  const vias = m.getAll('via').map(parseVia);
  t.same(vias.map((v) => [v.transport, v.host]), [['UDP', '192.0.2.2'], ['TCP', 'spindle.example.com'], ['UDP', '192.168.255.111']]);
  t.same(vias.map((v) => v.params.find(([k]) => k === 'branch')?.[1]), ['390skdjuw', 'z9hG4bK9ikj8', 'z9hG4bK30239']);
  t.equal(m.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  t.equal(m.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
  t.equal(m.get('subject'), '');
  const contact = parseNameAddr(m.get('contact')!);
  t.equal(contact.displayName, 'Quoted string ""');
  t.same(contact.params, [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
  t.equal(parseNameAddr(m.get('route')!).uri, 'sip:services.example.com;lr;unknownwith=value;unknown-no-value');
});

t.test('intmeth: the widest legal character ranges', async (t) => {
  const m = parseMessage(load('valid', 'intmeth'));
  t.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  const u = parseUri(m.uri);
  t.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  t.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  t.equal(u.host, 'example.com');
  t.equal(parseNameAddr(m.get('to')!).displayName, 'BEL:\x07 NUL:\x00 DEL:\x7F');
  t.equal(parseNameAddr(m.get('from')!).displayName, "token1~` token2'+_ token3*%!.-");
  t.equal(tagOf(m.get('from')!), "_token~1'+`*%!-.");
  t.equal(m.get('call-id'), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  t.equal(m.get("extensionHeader-!.%*+_`'~"), '\uFEFF大停電');
});

t.test('escapes, odd user parts and unusual transports', async (t) => {
  const esc01 = parseMessage(load('valid', 'esc01'));
  t.equal(parseUri(esc01.uri).user, 'sips%3Auser%40example.com');
  const contact = parseUri(parseNameAddr(esc01.get('m')!).uri);
  t.same(contact.params, [['%6C%72', null], ['n%61me', 'v%61lue%25%34%31']]);
  const esc02 = parseMessage(load('valid', 'esc02'));
  t.equal(esc02.method, 'RE%47IST%45R');
  t.equal(esc02.getAll('contact').length, 2, 'C%6Fntact is a different, unknown header');
  t.equal(esc02.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
  t.equal(parseUri(parseMessage(load('valid', 'semiuri')).uri).user, 'user;par=u%40example.net');
  const tr = parseMessage(load('valid', 'transports'));
  t.same(tr.getAll('via').map((v) => parseVia(v).transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  const longreq = parseMessage(load('valid', 'longreq'));
  t.equal(longreq.getAll('via').length, 34);
  t.equal(longreq.get('call-id'), `longreq.one${'really'.repeat(20)}longcallid`);
  t.equal(tagOf(longreq.get('f')!), `12${'982'.repeat(50)}424`);
  t.equal(parseNameAddr(parseMessage(load('valid', 'lwsdisp')).get('from')!).displayName, 'caller');
  const unksm2 = parseMessage(load('valid', 'unksm2'));
  t.equal(parseNameAddr(unksm2.get('to')!).uri, 'isbn:2983792873');
  t.equal(parseNameAddr(unksm2.get('contact')!).uri, 'name:John_Smith');
  const cparam01 = parseNameAddr(parseMessage(load('valid', 'cparam01')).get('contact')!);
  t.equal(cparam01.uri, 'sip:+19725552222@gw1.example.net');
  t.same(cparam01.params, [['unknownparam', null]], 'addr-spec parameters belong to the header');
  const cparam02 = parseNameAddr(parseMessage(load('valid', 'cparam02')).get('contact')!);
  t.same(parseUri(cparam02.uri).params, [['unknownparam', null]], 'bracketed parameters belong to the URI');
  t.equal(parseUri(parseNameAddr(parseMessage(load('valid', 'regescrt')).get('contact')!).uri).headers, 'Route=%3Csip:sip.example.com%3E');
});

t.test('responses with odd reason phrases', async (t) => {
  const unreason = parseMessage(load('valid', 'unreason'));
  t.equal(unreason.status, 200);
  t.equal(unreason.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  const noreason = parseMessage(load('valid', 'noreason'));
  t.equal(noreason.status, 100);
  t.equal(noreason.reason, '');
});

t.test('datagram framing: trailing octets ignored, missing Content-Length takes the rest', async (t) => {
  const dbl = parseMessage(load('valid', 'dblreq'));
  t.equal(dbl.method, 'REGISTER');
  t.equal(dbl.body.length, 0, 'the INVITE after the REGISTER is noise');
  const inv2543 = parseMessage(load('valid', 'inv2543'));
  t.equal(inv2543.get('content-length'), undefined);
  t.match(inv2543.body.toString(), /^v=0\r\n[\s\S]*m=audio 49217 RTP\/AVP 0\r\n$/);
  t.notOk(inv2543.has('max-forwards'), 'Max-Forwards is not required to parse');
  const lf = parseMessage(load('valid', 'bare-lf'));
  t.equal(lf.get('call-id'), 'barelf.1');
  t.equal(lf.body.toString(), 'body');
});

t.test('IPv6 references and tel: URIs', async (t) => {
  const good = parseMessage(load('valid', 'ipv6-good'));
  t.equal(parseUri(good.uri).host, '2001:db8::10');
  t.equal(parseVia(good.get('via')!).host, '2001:db8::9:1');
  const port = parseMessage(load('valid', 'ipv6-port-received'));
  const pu = parseUri(port.uri);
  t.same([pu.host, pu.port], ['2001:db8::10', 5070]);
  const via = parseVia(port.get('via')!);
  t.same([via.host, via.port], ['2001:db8::9:1', 6050]);
  t.equal(via.params.find(([k]) => k === 'received')?.[1], '2001:db8::9:255');
  const mapped = parseMessage(load('valid', 'ipv4-mapped'));
  t.equal(parseUri(mapped.uri).host, '::ffff:192.0.2.10');
  const tel = parseUri(parseMessage(load('valid', 'tel-ruri')).uri);
  t.same([tel.scheme, tel.host, tel.params], ['tel', '+1-201-555-0123', [['phone-context', 'example.com']]]);
});

/** Status a server should answer, and the code, for each invalid fixture. */
const INVALID: Record<string, { status: number; code: string }> = {
  badinv01: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  clerr: { status: 400, code: 'SIP_ERR_CONTENT_LENGTH' },
  ncl: { status: 400, code: 'SIP_ERR_CONTENT_LENGTH' },
  scalar02: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  scalarlg: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  quotbal: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  ltgtruri: { status: 400, code: 'SIP_ERR_BAD_URI' },
  lwsruri: { status: 400, code: 'SIP_ERR_BAD_START_LINE' },
  lwsstart: { status: 400, code: 'SIP_ERR_BAD_START_LINE' },
  trws: { status: 400, code: 'SIP_ERR_BAD_START_LINE' },
  escruri: { status: 400, code: 'SIP_ERR_BAD_URI' },
  baddate: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  regbadct: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  badaspec: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  baddn: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  badvers: { status: 505, code: 'SIP_ERR_BAD_VERSION' },
  mismatch01: { status: 400, code: 'SIP_ERR_BAD_CSEQ' },
  mismatch02: { status: 400, code: 'SIP_ERR_BAD_CSEQ' },
  bigcode: { status: 400, code: 'SIP_ERR_BAD_START_LINE' },
  insuf: { status: 400, code: 'SIP_ERR_MISSING_HEADER' },
  unkscm: { status: 416, code: 'SIP_ERR_BAD_URI_SCHEME' },
  novelsc: { status: 416, code: 'SIP_ERR_BAD_URI_SCHEME' },
  multi01: { status: 400, code: 'SIP_ERR_DUPLICATE_HEADER' },
  mcl01: { status: 400, code: 'SIP_ERR_CONTENT_LENGTH' },
  'ipv6-bad': { status: 400, code: 'SIP_ERR_BAD_URI' },
  'ipv6-unclosed': { status: 400, code: 'SIP_ERR_BAD_URI' },
  ltnogt: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  badmaxfwd: { status: 400, code: 'SIP_ERR_BAD_HEADER' },
  noblank: { status: 400, code: 'SIP_ERR_TRUNCATED' },
};

t.test('every invalid fixture is refused with the right status and code', async (t) => {
  t.same(names('invalid'), Object.keys(INVALID).sort(), 'every invalid fixture has an expectation');
  for (const name of names('invalid')) {
    let err: unknown;
    try {
      parseMessage(load('invalid', name));
    } catch (e) {
      err = e;
    }
    t.type(err, SipParseError, `${name} throws SipParseError`);
    const pe = err as SipParseError;
    t.equal(pe.status, INVALID[name]!.status, `${name}: status`);
    t.equal(pe.code, INVALID[name]!.code, `${name}: code (${pe.message})`);
    t.ok(pe.partial, `${name}: headers handed back for a response`);
  }
});

t.test('partial keeps what a server needs to answer', async (t) => {
  try {
    parseMessage(load('invalid', 'mismatch01'));
    t.fail('should throw');
  } catch (e) {
    const p = (e as SipParseError).partial!;
    t.equal(p.method, 'OPTIONS');
    t.equal(p.get('call-id'), 'mismatch01.dj0234sxdfl3');
    t.equal(parseVia(p.get('via')!).params.find(([k]) => k === 'branch')?.[1], 'z9hG4bKkdjuw');
    t.ok(p.get('from') && p.get('to') && p.get('cseq'));
  }
  try {
    parseMessage(load('invalid', 'lwsstart'));
    t.fail('should throw');
  } catch (e) {
    const p = (e as SipParseError).partial!;
    t.equal(p.method, 'INVITE', 'method still known from a bad request line');
    t.equal(p.get('cseq'), '1893884 INVITE');
  }
});
