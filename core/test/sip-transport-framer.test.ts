import t from 'tap';
import { StreamFramer } from '../src/sip-engine/transport/index.ts';
import { sipRequest } from './sip-transport-helpers.ts';

function framer(max = 4096): { f: StreamFramer; pings: () => number } {
  let pings = 0;
  const f = new StreamFramer({ maxMessageSize: max, onPing: () => { pings++; } });
  return { f, pings: () => pings };
}

t.test('one byte at a time yields the same messages', async (t) => {
  const { f } = framer();
  const stream = Buffer.concat([sipRequest('b1', 'abc'), Buffer.from('\r\n'), sipRequest('b2', 'de', 'l')]);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
  t.same(out, [sipRequest('b1', 'abc'), sipRequest('b2', 'de', 'l')]);
  t.equal(f.buffered, 0);
});

t.test('keep-alives', async (t) => {
  const { f, pings } = framer();
  t.same(f.push(Buffer.from('\r\n\r\n')), []);
  t.equal(pings(), 1, 'double CRLF is a ping');
  t.same(f.push(Buffer.from('\r\n')), []);
  t.equal(pings(), 1, 'a lone CRLF waits: it may be half a ping');
  t.same(f.push(Buffer.from('\r\n')), []);
  t.equal(pings(), 2, 'its second half makes a ping');
  t.same(f.push(Buffer.from('\r\n')), []);
  t.same(f.push(sipRequest('k1')), [sipRequest('k1')], 'a lone CRLF followed by a message is a pong and is skipped');
  t.equal(pings(), 2);
  t.same(f.push(Buffer.concat([Buffer.from('\r\n\r\n\r\n\r\n'), sipRequest('k2')])), [sipRequest('k2')]);
  t.equal(pings(), 4, 'pings before a message in the same chunk');
});

t.test('Content-Length handling', async (t) => {
  const noLength = Buffer.from('ACK sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n');
  t.same(framer().f.push(noLength), [noLength], 'missing Content-Length on a stream means 0');

  const folded = Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nCONTENT-LENGTH:\r\n  3\r\n\r\nabcNEXT');
  const { f } = framer();
  t.same(f.push(folded), [folded.subarray(0, folded.length - 4)], 'folded, upper-case header');
  t.equal(f.buffered, 4, 'the rest waits for its headers');

  for (const [head, why] of [
    ['Content-Length: 1x', 'not a number'],
    ['l: -1', 'not a number'],
    ['Content-Length: 1\r\nl: 2', 'conflicting'],
  ] as const) {
    const bad = framer();
    const out = bad.f.push(Buffer.concat([sipRequest('fine'), Buffer.from(`INFO sip:a SIP/2.0\r\n${head}\r\n\r\n`)]));
    t.same(out, [sipRequest('fine')], `messages before the bad one still come out (${head})`);
    t.match(bad.f.error, { code: 'SIP_ERR_FRAMING', message: new RegExp(why) });
    t.same(bad.f.push(sipRequest('after')), [], 'a failed framer yields nothing more');
  }
});

t.test('size limits', async (t) => {
  const body = framer(1000);
  t.same(body.f.push(Buffer.from('INFO sip:a SIP/2.0\r\nContent-Length: 5000\r\n\r\n')), []);
  t.match(body.f.error, { code: 'SIP_ERR_MESSAGE_TOO_LARGE' }, 'declared size over the limit fails before the body arrives');

  const headers = framer(1000);
  for (let i = 0; i < 20; i++) headers.f.push(Buffer.from(`X-Filler-${i}: ${'h'.repeat(60)}\r\n`));
  t.match(headers.f.error, { code: 'SIP_ERR_MESSAGE_TOO_LARGE' }, 'endless headers fail once past the limit');

  const exact = sipRequest('exact', 'q'.repeat(100));
  t.same(framer(exact.length).f.push(exact), [exact], 'a message of exactly maxMessageSize passes');
});
