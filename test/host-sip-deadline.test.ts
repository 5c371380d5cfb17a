// The SIP handler deadline cuts off handlers that do nothing, not handlers
// that are working: ringing before answering, a UAS whose SDP takes a while,
// a proxy waiting for the next hop all outlive plugins.handlerTimeoutMs.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';
import { request, statusOf, udpPeer } from './helpers/raw-sip.ts';

const TIMEOUT_MS = 300;
// Well past the deadline, so a cut-off would have happened first.
const DELAY_MS = TIMEOUT_MS * 3;
const fixture = fileURLToPath(new URL('./fixtures/plugins/sip/slow-answer', import.meta.url));
const SDP = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';

t.test('SIP handler deadline counts signs of life', async (t) => {
  const th = await createTestHost({
    plugins: [fixture],
    sites: ['slow.test'],
    config: { plugins: { handlerTimeoutMs: TIMEOUT_MS, breaker: { failures: 100, windowMs: 60_000 } } },
  });
  t.teardown(() => th.close());
  const target = { host: '127.0.0.1', port: th.sipPort };
  const client = await udpPeer(target);
  t.teardown(() => client.close());
  const via = `UDP 127.0.0.1:${client.port}`;
  const responsesTo = (callId: string) => (m: string) => statusOf(m) > 0 && m.includes(`Call-ID: ${callId}`);
  const finalTo = (callId: string) => (m: string) => statusOf(m) >= 200 && m.includes(`Call-ID: ${callId}`);

  t.test('180 then 200 after longer than the deadline', async (t) => {
    client.send(request('INVITE', 'sip:bob@slow.test', via, {
      callId: 'ring-1',
      body: SDP,
      extra: ['Content-Type: application/sdp', 'X-Mode: ring', `X-Delay-Ms: ${DELAY_MS}`],
    }));
    const ringing = await client.next((m) => statusOf(m) === 180 && m.includes('Call-ID: ring-1'), 5000);
    t.equal(statusOf(ringing), 180, 'ringing arrives');
    const final = await client.next(finalTo('ring-1'), 5000);
    t.equal(statusOf(final), 200, 'the INVITE is answered 200, not cut off with 503');
    t.match(final, /m=audio 40000/, 'with the plugin\'s SDP');
  });

  t.test('createUAS whose SDP takes longer than the deadline', async (t) => {
    client.send(request('INVITE', 'sip:bob@slow.test', via, {
      callId: 'uas-1',
      body: SDP,
      extra: ['Content-Type: application/sdp', 'X-Mode: uas', `X-Delay-Ms: ${DELAY_MS}`],
    }));
    const final = await client.next(finalTo('uas-1'), 5000);
    t.equal(statusOf(final), 200, 'the UAS answers 200');
  });

  t.test('a proxy whose next hop answers after the deadline', async (t) => {
    const nextHop = await udpPeer(target);
    t.teardown(() => nextHop.close());
    client.send(request('MESSAGE', 'sip:bob@slow.test', via, {
      callId: 'proxy-1',
      body: 'hi',
      extra: ['Content-Type: text/plain', 'X-Mode: proxy', `X-Proxy-To: sip:bob@127.0.0.1:${nextHop.port}`],
    }));
    const forwarded = await nextHop.next((m) => m.startsWith('MESSAGE ') && m.includes('Call-ID: proxy-1'), 5000);
    await new Promise((r) => setTimeout(r, DELAY_MS));
    nextHop.send(answer(forwarded, 200, 'OK'));
    const final = await client.next(finalTo('proxy-1'), 5000);
    t.equal(statusOf(final), 200, 'the next hop\'s 200 reaches the caller, not a 503 from the deadline');
  });

  t.test('a handler that does nothing is still cut off', async (t) => {
    client.send(request('INVITE', 'sip:bob@slow.test', via, {
      callId: 'idle-1',
      body: SDP,
      extra: ['Content-Type: application/sdp', 'X-Mode: idle'],
    }));
    const final = await client.next(finalTo('idle-1'), 5000);
    t.equal(statusOf(final), 503, 'the deadline answers 503');
    const early = client.received.filter(responsesTo('idle-1')).filter((m) => statusOf(m) > 100 && statusOf(m) < 200);
    t.same(early, [], 'and nothing in between claimed progress');
  });
});

/** A response to `req` copying the headers RFC 3261 §8.2.6 says to copy. */
function answer(req: string, status: number, reason: string): string {
  const head = req.split('\r\n\r\n')[0]!.split('\r\n');
  const copy = head.filter((line) => /^(Via|From|To|Call-ID|CSeq):/i.test(line))
    .map((line) => (/^To:/i.test(line) && !/;tag=/.test(line) ? `${line};tag=nexthop` : line));
  return [`SIP/2.0 ${status} ${reason}`, ...copy, 'Content-Length: 0', '', ''].join('\r\n');
}
