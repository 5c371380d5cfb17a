/**
 * Unit behaviour of the SIP message parser and the header/URI parsers,
 * through the public exports of sip-engine/message.
 */
import t from 'tap';
import {
  parseMessage, parseUri, formatUri, uriParam, hostportOf, parseVia, formatVia, viaParam, parseNameAddr,
  formatNameAddr, nameAddrParam, parseCSeq, tagOf, parseParams, SipParseError, SIP_PARSE_ERRORS, DEFAULT_PARSE_LIMITS,
} from '../src/sip-engine/message/index.ts';

const CRLF = '\r\n';
function raw(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + body, 'utf8');
}
const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>',
  'Call-ID: c1@192.0.2.1',
  'CSeq: 1 OPTIONS',
];
function options(extra: string[] = [], body = ''): Buffer {
  return raw(['OPTIONS sip:bob@example.com SIP/2.0', ...BASE, ...extra], body);
}
function parseError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw new Error(`expected SipParseError, got ${String(e)}`);
  }
  throw new Error('expected SipParseError, nothing thrown');
}

t.test('error registry: unique codes, each with a SIP status and a meaning', async (t) => {
  const codes = Object.keys(SIP_PARSE_ERRORS);
  t.equal(new Set(codes).size, codes.length);
  for (const [code, spec] of Object.entries(SIP_PARSE_ERRORS)) {
    t.match(code, /^SIP_ERR_[A-Z_]+$/);
    t.ok(spec.status >= 400 && spec.status < 600, `${code} status`);
    t.ok(spec.message.length > 10, `${code} message`);
  }
  t.equal(SIP_PARSE_ERRORS.SIP_ERR_BAD_VERSION.status, 505);
  t.equal(SIP_PARSE_ERRORS.SIP_ERR_BAD_URI_SCHEME.status, 416);
  t.equal(SIP_PARSE_ERRORS.SIP_ERR_TOO_LARGE.status, 513);
  const e = new SipParseError('SIP_ERR_BAD_CSEQ', 'detail here');
  t.equal(e.name, 'SipParseError');
  t.ok(e instanceof Error);
  t.match(e.message, /detail here/);
});

t.test('request and response start lines', async (t) => {
  const req = parseMessage(options());
  t.equal(req.kind, 'request');
  t.equal(req.method, 'OPTIONS');
  t.equal(req.uri, 'sip:bob@example.com');
  t.equal(req.version, 'SIP/2.0');
  const res = parseMessage(raw(['SIP/2.0 486 Busy Here', ...BASE]));
  t.equal(res.kind, 'response');
  t.same([res.status, res.reason], [486, 'Busy Here']);
  const lower = parseMessage(raw(['sip/2.0 200 OK', ...BASE]));
  t.equal(lower.status, 200, 'SIP version is case-insensitive');
  t.equal(parseError(() => parseMessage(raw(['SIP/3.0 200 OK', ...BASE]))).status, 505);
  t.equal(parseError(() => parseMessage(raw(['SIP/2.0 99 Low', ...BASE]))).code, 'SIP_ERR_BAD_START_LINE');
  t.equal(parseError(() => parseMessage(raw(['SIP/2.0 2000 Big', ...BASE]))).code, 'SIP_ERR_BAD_START_LINE');
  t.equal(parseError(() => parseMessage(raw(['GET / HTTP/1.1', ...BASE]))).code, 'SIP_ERR_BAD_START_LINE');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:bob@example.com SIP/2.1', ...BASE]))).status, 505);
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:bob@example.com', ...BASE]))).code, 'SIP_ERR_BAD_START_LINE');
  const unknown = parseMessage(raw(['NEWMETHOD sip:bob@example.com SIP/2.0', ...BASE.slice(0, 4), 'CSeq: 1 NEWMETHOD']));
  t.equal(unknown.method, 'NEWMETHOD', 'unknown methods parse');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS http://example.com/ SIP/2.0', ...BASE]))).status, 416);
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:bob@example.com?Subject=x SIP/2.0', ...BASE]))).status, 400);
});

t.test('leading CRLFs are skipped; empty input is an error', async (t) => {
  const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n\n'), options()]));
  t.equal(m.method, 'OPTIONS');
  t.equal(parseError(() => parseMessage(Buffer.from('\r\n\r\n'))).code, 'SIP_ERR_BAD_START_LINE');
  t.equal(parseError(() => parseMessage(Buffer.alloc(0))).code, 'SIP_ERR_BAD_START_LINE');
});

t.test('compact forms resolve to their long names', async (t) => {
  const m = parseMessage(raw([
    'MESSAGE sip:bob@example.com SIP/2.0',
    'v: SIP/2.0/TCP h.example.com;branch=z9hG4bK-2',
    'f: <sip:alice@example.com>;tag=x',
    't: <sip:bob@example.com>',
    'i: compact@h',
    'CSeq: 7 MESSAGE',
    'm: <sip:alice@h.example.com>',
    'c: text/plain',
    'k: path',
    's: hello',
    'l: 2',
  ], 'hi'));
  t.equal(m.get('Via'), 'SIP/2.0/TCP h.example.com;branch=z9hG4bK-2');
  t.equal(m.get('from'), '<sip:alice@example.com>;tag=x');
  t.equal(m.get('TO'), '<sip:bob@example.com>');
  t.equal(m.get('Call-ID'), 'compact@h');
  t.equal(m.get('contact'), '<sip:alice@h.example.com>');
  t.equal(m.get('content-type'), 'text/plain');
  t.equal(m.get('supported'), 'path');
  t.equal(m.get('subject'), 'hello');
  t.equal(m.body.toString(), 'hi');
  t.equal(m.headers[0]!.name, 'v', 'names kept as received');
});

t.test('header folding collapses to one space; odd spacing around the colon', async (t) => {
  const m = parseMessage(options([
    'Subject: first',
    '   second',
    '\tthird',
    'X-Spacey   :   value   ',
  ]));
  t.equal(m.get('subject'), 'first second third');
  t.equal(m.get('x-spacey'), 'value');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:bob@example.com SIP/2.0', ' folded-first: x', ...BASE]))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(options(['no colon here']))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(options(['Bad Name: x']))).code, 'SIP_ERR_BAD_HEADER');
});

t.test('repeated and comma-joined headers are stored as received and split by getAll', async (t) => {
  const m = parseMessage(raw([
    'OPTIONS sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK-a, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK-b',
    'Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK-c',
    ...BASE.slice(1),
    'Contact: "Doe, John" <sip:j@h;x=1,2>;q=0.5, <sip:k@h>',
    'WWW-Authenticate: Digest realm="a, b", nonce="n"',
  ]));
  t.equal(m.getRaw('via').length, 2);
  const vias = m.getAll('via');
  t.equal(vias.length, 3);
  t.same(vias.map((v) => parseVia(v).host), ['a.example.com', '2001:db8::1', 'c.example.com']);
  const contacts = m.getAll('contact').map((c) => parseNameAddr(c));
  t.same(contacts.map((c) => c.displayName), ['Doe, John', undefined]);
  t.same(contacts.map((c) => c.uri), ['sip:j@h;x=1,2', 'sip:k@h']);
  t.equal(m.get('www-authenticate'), 'Digest realm="a, b", nonce="n"');
  t.equal(m.removeFirst('via'), 'SIP/2.0/UDP a.example.com;branch=z9hG4bK-a');
  t.equal(m.getAll('via').length, 2);
});

t.test('unknown headers round-trip verbatim through toBuffer', async (t) => {
  const extra = ['X-Odd-Header: ;;,,  "quoted, \\"x\\""  <not a uri> ;', 'x-lower: 大停電 \uFEFF', 'P-Custom:'];
  const m = parseMessage(options(extra, ''));
  const again = parseMessage(m.toBuffer());
  t.same(again.headers.slice(0, -1), m.headers, 'same headers, then the Content-Length toBuffer adds');
  t.same(again.headers.at(-1), { name: 'Content-Length', value: '0' });
  t.equal(again.get('x-odd-header'), ';;,,  "quoted, \\"x\\""  <not a uri> ;');
  t.equal(again.get('X-LOWER'), '大停電 \uFEFF');
  t.equal(again.get('p-custom'), '');
  t.match(m.toString(), 'X-Odd-Header: ;;,,  "quoted, \\"x\\""  <not a uri> ;\r\n');
});

t.test('body is exactly Content-Length bytes', async (t) => {
  const m = parseMessage(options(['Content-Length: 5'], 'helloEXTRA'));
  t.equal(m.body.toString(), 'hello', 'datagram bytes beyond Content-Length are dropped');
  const none = parseMessage(options([], 'rest of datagram'));
  t.equal(none.body.toString(), 'rest of datagram', 'no Content-Length: the rest of the datagram');
  const zero = parseMessage(options(['Content-Length: 0'], 'junk'));
  t.equal(zero.body.length, 0);
  const short = parseError(() => parseMessage(options(['Content-Length: 50'], 'tiny')));
  t.equal(short.code, 'SIP_ERR_CONTENT_LENGTH');
  t.equal(short.status, 400);
  t.equal(short.partial?.get('call-id'), 'c1@192.0.2.1');
  for (const bad of ['-1', 'abc', '1.5', '99999999999999999999', '']) {
    t.equal(parseError(() => parseMessage(options([`Content-Length: ${bad}`]))).code, 'SIP_ERR_CONTENT_LENGTH', `Content-Length "${bad}"`);
  }
  const utf8 = parseMessage(options(['Content-Type: text/plain;charset=utf-8', 'Content-Length: 5'], 'étéX'));
  t.equal(utf8.body.toString('utf8'), 'été', 'length counts bytes, not characters');
  const lf = parseMessage(Buffer.from('OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 OPTIONS\nl: 3\n\nabcd'));
  t.equal(lf.body.toString(), 'abc', 'bare LF line ends are accepted');
});

t.test('validation of mandatory, single-valued and numeric headers', async (t) => {
  for (const drop of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const lines = BASE.filter((l) => !l.startsWith(drop + ':'));
    const e = parseError(() => parseMessage(raw(['OPTIONS sip:bob@example.com SIP/2.0', ...lines])));
    t.equal(e.code, 'SIP_ERR_MISSING_HEADER', `missing ${drop}`);
    t.match(e.message, drop.toLowerCase());
  }
  t.ok(parseMessage(options()), 'Max-Forwards is not mandatory');
  for (const dup of ['From: <sip:x@h>;tag=2', 'To: <sip:y@h>', 'Call-ID: other', 'CSeq: 2 OPTIONS']) {
    t.equal(parseError(() => parseMessage(options([dup]))).code, 'SIP_ERR_DUPLICATE_HEADER', dup);
  }
  t.equal(parseError(() => parseMessage(options(['Max-Forwards: 70', 'Max-Forwards: 69']))).code, 'SIP_ERR_DUPLICATE_HEADER');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:b@h SIP/2.0', ...BASE.slice(0, 2), 'To: <sip:a@h>, <sip:b@h>', ...BASE.slice(3)]))).code, 'SIP_ERR_DUPLICATE_HEADER');
  t.equal(parseError(() => parseMessage(options(['Max-Forwards: 256']))).status, 400);
  t.equal(parseError(() => parseMessage(options(['Max-Forwards: -1']))).status, 400);
  t.ok(parseMessage(options(['Max-Forwards: 255', 'Expires: 4294967295'])));
  t.equal(parseError(() => parseMessage(options(['Expires: 4294967296']))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(options(['Expires: soon']))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(options(['Contact: <sip:a@h>;expires=99999999999']))).code, 'SIP_ERR_BAD_HEADER');
  t.ok(parseMessage(options(['Contact: *', 'Retry-After: 120 (lunch);duration=60', 'Warning: 399 h "x"'])));
  t.equal(parseError(() => parseMessage(options(['Route: <sip:p@h;lr']))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(options(['Record-Route: "unterminated <sip:p@h>']))).code, 'SIP_ERR_BAD_HEADER');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:b@h SIP/2.0', ...BASE.slice(0, 4), 'CSeq: 1 INVITE']))).code, 'SIP_ERR_BAD_CSEQ');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:b@h SIP/2.0', ...BASE.slice(0, 4), 'CSeq: x OPTIONS']))).code, 'SIP_ERR_BAD_CSEQ');
  t.equal(parseError(() => parseMessage(raw(['OPTIONS sip:b@h SIP/2.0', 'Via: SIP/2.0/UDP', ...BASE.slice(1)]))).code, 'SIP_ERR_BAD_HEADER');
});

t.test('limits: size, header count and line length give SIP_ERR_TOO_LARGE (513)', async (t) => {
  t.same(DEFAULT_PARSE_LIMITS, { maxMessageSize: 65535, maxHeaders: 256, maxHeaderLineLength: 8192 });
  const big = parseError(() => parseMessage(options(['Content-Length: 70000'], 'x'.repeat(70000))));
  t.same([big.code, big.status], ['SIP_ERR_TOO_LARGE', 513]);
  t.equal(big.partial?.get('call-id'), 'c1@192.0.2.1', 'headers still handed back');
  const small = parseError(() => parseMessage(options(), { maxMessageSize: 100 }));
  t.equal(small.code, 'SIP_ERR_TOO_LARGE');
  const many = Array.from({ length: 300 }, (_, i) => `X-H${i}: ${i}`);
  t.equal(parseError(() => parseMessage(options(many))).code, 'SIP_ERR_TOO_LARGE');
  t.ok(parseMessage(options(many.slice(0, 10)), { maxHeaders: 15 }));
  t.equal(parseError(() => parseMessage(options(many.slice(0, 11)), { maxHeaders: 15 })).code, 'SIP_ERR_TOO_LARGE');
  t.equal(parseError(() => parseMessage(options([`X-Long: ${'a'.repeat(9000)}`]))).code, 'SIP_ERR_TOO_LARGE');
  const folded = ['X-Folded: start', ...Array.from({ length: 100 }, () => ` ${'b'.repeat(100)}`)];
  t.equal(parseError(() => parseMessage(options(folded))).code, 'SIP_ERR_TOO_LARGE', 'folding cannot dodge the line limit');
  t.ok(parseMessage(options(folded), { maxHeaderLineLength: 20000 }));
  const noEnd = Buffer.from('OPTIONS sip:b@h SIP/2.0\r\n' + 'X: y\r\n'.repeat(20000));
  t.equal(parseError(() => parseMessage(noEnd)).code, 'SIP_ERR_TOO_LARGE');
});

t.test('parseUri / formatUri / uriParam / hostportOf', async (t) => {
  const u = parseUri('sip:alice:secret@Example.COM:5070;transport=TCP;lr?Subject=hi&Priority=urgent');
  t.same({ ...u, raw: undefined }, {
    scheme: 'sip', user: 'alice', password: 'secret', host: 'Example.COM', port: 5070,
    params: [['transport', 'TCP'], ['lr', null]], headers: 'Subject=hi&Priority=urgent', raw: undefined,
  });
  t.equal(uriParam(u, 'TRANSPORT'), 'TCP');
  t.equal(uriParam(u, 'lr'), null);
  t.equal(uriParam(u, 'maddr'), undefined);
  t.equal(formatUri(u), 'sip:alice:secret@Example.COM:5070;transport=TCP;lr?Subject=hi&Priority=urgent');
  t.equal(hostportOf(u), 'Example.COM:5070');
  const v6 = parseUri('SIPS:[2001:db8::1]:5061');
  t.same([v6.scheme, v6.host, v6.port], ['sips', '2001:db8::1', 5061]);
  t.equal(hostportOf(v6), '[2001:db8::1]:5061');
  t.equal(formatUri(v6), 'sips:[2001:db8::1]:5061');
  t.equal(hostportOf(parseUri('sip:[::1]')), '[::1]');
  const tel = parseUri('tel:+358-555-1234567;postd=pp22');
  t.same([tel.scheme, tel.host, tel.params], ['tel', '+358-555-1234567', [['postd', 'pp22']]]);
  t.equal(formatUri(tel), 'tel:+358-555-1234567;postd=pp22');
  t.equal(parseUri('sip:%61lice@h').user, '%61lice', 'escapes kept as received');
  t.equal(parseUri('sip:user;par=u%40example.net@example.com').user, 'user;par=u%40example.net');
  t.equal(parseUri('sip:h;maddr=[::1]').params[0]![1], '[::1]');
  for (const bad of ['', 'sip:', 'sip:@h', 'sip:a@', 'sip:a b@h', 'sip:h:99999', 'sip:h:', 'sip:h:x', 'sip:[::1', 'sip:[zz]',
    'sip:%zz@h', 'sip:<h>', 'nocolon', '1sip:h', 'tel:', 'sip:2001:db8::1']) {
    const e = parseError(() => parseUri(bad));
    t.equal(e.code, 'SIP_ERR_BAD_URI', `"${bad}" rejected`);
  }
  t.equal(parseError(() => parseUri('mailto:a@b')).code, 'SIP_ERR_BAD_URI_SCHEME');
  t.equal(parseError(() => parseUri('http://example.com')).status, 416);
});

t.test('parseVia / formatVia / viaParam', async (t) => {
  const v = parseVia('SIP / 2.0 / udp  pc33.example.com : 5066 ; branch = z9hG4bK1 ;rport;received=192.0.2.9');
  t.same(v, { protocol: 'SIP/2.0', transport: 'UDP', host: 'pc33.example.com', port: 5066, params: [['branch', 'z9hG4bK1'], ['rport', null], ['received', '192.0.2.9']] });
  t.equal(viaParam(v, 'BRANCH'), 'z9hG4bK1');
  t.equal(viaParam(v, 'rport'), null);
  t.equal(viaParam(v, 'ttl'), undefined);
  t.equal(formatVia(v), 'SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK1;rport;received=192.0.2.9');
  const v6 = parseVia('SIP/2.0/WSS [2001:db8::5]:443;branch=z9hG4bK2;received=2001:db8::9');
  t.same([v6.transport, v6.host, v6.port, viaParam(v6, 'received')], ['WSS', '2001:db8::5', 443, '2001:db8::9']);
  t.equal(formatVia(v6), 'SIP/2.0/WSS [2001:db8::5]:443;branch=z9hG4bK2;received=2001:db8::9');
  t.same(parseVia(formatVia(v6)), v6);
  t.equal(parseVia('SIP/2.0/TLS h').port, undefined);
  t.same([parseVia('sip/2.0/tcp h').protocol, parseVia('sip/2.0/tcp h').transport], ['SIP/2.0', 'TCP'], 'protocol and transport upper-cased');
  for (const bad of ['', 'SIP/2.0', 'SIP/2.0/UDP', 'SIP/2.0 UDP h', 'SIP/2.0/UDP h:port', 'SIP/2.0/UDP h:70000', 'SIP/2.0/UDP h;;',
    'SIP/2.0/UDP h;branch=', 'SIP/2.0/UDP h garbage', 'SIP/2.0/UDP [::1', 'SIP/2.0/UDP h;x="open']) {
    t.equal(parseError(() => parseVia(bad)).code, 'SIP_ERR_BAD_HEADER', `"${bad}" rejected`);
  }
});

t.test('parseNameAddr / formatNameAddr / nameAddrParam / tagOf', async (t) => {
  const a = parseNameAddr('"Bob \\"the\\" Builder" <sip:b@h;x=y>;tag=1;Q=0.5');
  t.same(a, { displayName: 'Bob "the" Builder', uri: 'sip:b@h;x=y', params: [['tag', '1'], ['Q', '0.5']] });
  t.equal(nameAddrParam(a, 'q'), '0.5');
  t.equal(formatNameAddr(a), '"Bob \\"the\\" Builder" <sip:b@h;x=y>;tag=1;Q=0.5');
  t.same(parseNameAddr(formatNameAddr(a)), a);
  const spec = parseNameAddr('sip:b@h;tag=2;lr');
  t.same(spec, { uri: 'sip:b@h', params: [['tag', '2'], ['lr', null]] }, 'addr-spec params belong to the header');
  t.equal(formatNameAddr(spec), '<sip:b@h>;tag=2;lr');
  t.same(parseNameAddr('Alice Smith <sips:a@h>'), { displayName: 'Alice Smith', uri: 'sips:a@h', params: [] });
  t.same(parseNameAddr('<tel:+1555>'), { uri: 'tel:+1555', params: [] });
  t.equal(parseNameAddr('"" <sip:a@h>').displayName, '');
  t.equal(parseNameAddr('<sip:a@h>;x="quoted;value"').params[0]![1], '"quoted;value"');
  t.equal(tagOf('<sip:a@h>;tag=abc'), 'abc');
  t.equal(tagOf('sip:a@h;tag=abc'), 'abc');
  t.equal(tagOf('<sip:a@h;tag=in-uri>'), undefined, 'a tag inside the URI is not the header tag');
  t.equal(tagOf('<sip:a@h>;tag'), undefined);
  t.equal(tagOf('garbage <'), undefined);
  for (const bad of ['', '"unterminated <sip:a@h>', '<sip:a@h', 'Bell, Alex <sip:a@h>', '< sip:a@h >', 'sip:a@h?x=y', 'noscheme',
    '<sip:a@h>;;', '<sip:a@h> trailing', '"x" sip:a@h', '<>']) {
    t.equal(parseError(() => parseNameAddr(bad)).code, 'SIP_ERR_BAD_HEADER', `"${bad}" rejected`);
  }
});

t.test('parseCSeq and parseParams', async (t) => {
  t.same(parseCSeq('4711 INVITE'), { seq: 4711, method: 'INVITE' });
  t.same(parseCSeq('  0009   ACK  '), { seq: 9, method: 'ACK' });
  t.same(parseCSeq('2147483647 BYE'), { seq: 2147483647, method: 'BYE' });
  for (const bad of ['', 'INVITE', '1', '1INVITE', '-1 INVITE', '2147483648 INVITE', '1 INVITE x', '1 IN/VITE', '99999999999999999999 BYE']) {
    t.equal(parseError(() => parseCSeq(bad)).code, 'SIP_ERR_BAD_CSEQ', `"${bad}" rejected`);
  }
  t.same(parseParams(';a=1; b ;c = "x y"'), [['a', '1'], ['b', null], ['c', '"x y"']]);
  t.same(parseParams(''), []);
  t.equal(parseError(() => parseParams(';=1')).code, 'SIP_ERR_BAD_HEADER');
});

t.test('real-world name-addr shapes', async (t) => {
  const inst = parseNameAddr('<sip:a@192.0.2.1:5060;ob>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"');
  t.equal(inst.uri, 'sip:a@192.0.2.1:5060;ob');
  t.equal(nameAddrParam(inst, '+sip.instance'), '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"');
  t.equal(parseNameAddr('Jöhn Dœ <sip:j@h>').displayName, 'Jöhn Dœ', 'unquoted UTF-8 display names are tolerated');
  t.equal(parseNameAddr('"a<b>c" <sip:x@h>').displayName, 'a<b>c');
  const m = parseMessage(options(['Route: <sip:p1@h;lr>,<sip:p2@h;lr>', 'Record-Route: <sip:p3@h;lr>']));
  t.same(m.getAll('route').map((r) => parseNameAddr(r).uri), ['sip:p1@h;lr', 'sip:p2@h;lr']);
});
