/**
 * Engine behaviour at the protocol edges, driven by hand on real sockets:
 * wire authentication, load spreading, CDR events, ACK timeout, 483/482,
 * retransmission absorption, malformed input, TLS/WS/IPv6.
 */
import t from 'tap';
import Srf from 'drachtio-srf';
import { SipEngine } from '../core/src/sip-engine/index.ts';
import { runSipp } from './helpers/sipp.ts';
import { connectSrf, startEngineWithApp, SDP, waitFor } from './helpers/engine.ts';
import { udpPeer, request, statusOf } from './helpers/raw-sip.ts';

const final = (m: string) => statusOf(m) >= 200;

t.test('a wrong secret is refused', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  const srf = new (Srf as any)();
  srf.connect({ host: '127.0.0.1', port: env.engine.wirePort, secret: 'wrong', reconnect: { maxAttempts: 1 } });
  srf.on('error', () => {});
  const err = await waitFor<Error | null>((done) => srf.once('connect', (e: Error | null) => done(e)), 5000, 'connect result');
  t.match(String(err), /failed to authenticate/);
  srf.disconnect();
});

t.test('two apps routing MESSAGE share the load; cdr events reach subscribers', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  const second = await connectSrf(env.engine.wirePort, 'compat-secret');
  t.teardown(() => second.disconnect());
  const got = { a: 0, b: 0 };
  env.srf.message((_req: any, res: any) => { got.a++; res.send(200); });
  second.message((_req: any, res: any) => { got.b++; res.send(200); });
  const cdrs: string[] = [];
  env.srf.on('cdr:attempt', () => cdrs.push('attempt'));
  env.srf.on('cdr:start', (_s: string, _t: string, role: string) => cdrs.push(`start:${role}`));
  env.srf.on('cdr:stop', (_s: string, _t: string, reason: string) => cdrs.push(`stop:${reason}`));
  env.srf.invite((req: any, res: any) => env.srf.createUAS(req, res, { localSdp: SDP }));
  await new Promise((r) => setTimeout(r, 100));
  const r = await runSipp({ scenario: 'uac-message.xml', target: env.target, calls: 6, rate: 20, timeoutMs: 15000 });
  t.equal(r.successful, 6);
  t.same(got, { a: 3, b: 3 }, 'round-robin between the two connections');
  const c = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, service: 'cdr', calls: 1, timeoutMs: 15000 });
  t.equal(c.successful, 1);
  await new Promise((r) => setTimeout(r, 200));
  t.same(cdrs, ['attempt', 'start:uas', 'stop:normal-release'], 'attempt, start and stop in order');
});

t.test('no ACK for a 2xx: the engine retransmits, then BYEs the peer and the app gets an unsolicited BYE', async (t) => {
  const env = await startEngineWithApp({ timers: { t1: 40, t2: 400, t4: 500 } });
  t.teardown(() => env.close());
  let destroyed = false;
  env.srf.invite(async (req: any, res: any) => {
    const d = await env.srf.createUAS(req, res, { localSdp: SDP });
    d.on('destroy', () => (destroyed = true));
  });
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  peer.send(request('INVITE', `sip:bob@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { body: SDP, extra: ['Content-Type: application/sdp'] }));
  await peer.next((m) => statusOf(m) === 200);
  await peer.next((m) => statusOf(m) === 200, 2000);
  t.pass('2xx retransmitted while no ACK came');
  const bye = await peer.next((m) => m.startsWith('BYE '), 8000);
  t.match(bye, /Reason: SIP;cause=408/);
  await waitFor<void>((done) => { const i = setInterval(() => destroyed && (clearInterval(i), done()), 20); }, 3000, 'app dialog destroy');
  t.ok(destroyed, 'the app dialog ended');
});

t.test('an answered non-INVITE over UDP keeps only its answer, for Timer J', async (t) => {
  // T1 of 20 ms: Timer J (64*T1) is 1.28 s.
  const env = await startEngineWithApp({ timers: { t1: 20, t2: 160, t4: 200 } });
  t.teardown(() => env.close());
  let seen = 0;
  env.srf.message((_req: any, res: any) => {
    seen++;
    res.send(200, 'réponse ✓ ünïcode', { headers: { 'Content-Type': 'text/plain;charset=utf-8', 'X-Seen': String(seen) } });
  });
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  const via = `UDP 127.0.0.1:${peer.port}`;
  const uri = `sip:bob@127.0.0.1:${env.sipPort}`;
  const msg = request('MESSAGE', uri, via, { callId: 'kept-1', fromTag: 'k1', branch: 'z9hG4bKkeptA', body: 'hi' });
  peer.send(msg);
  const first = await peer.next((m) => final(m) && m.includes('kept-1'));
  t.equal(statusOf(first), 200);
  t.match(first, /réponse ✓ ünïcode/, 'the answer carries its UTF-8 body');
  t.same({ ...env.engine.stats(), apps: 0, dialogs: 0, clientTransactions: 0 }, { dialogs: 0, serverTransactions: 0, answeredRequests: 1, clientTransactions: 0, apps: 0, pendingRequests: 0, overloadRejected: 0, hostRequests: 0, answeredDroppedEarly: 0 },
    'no transaction object is left, one answered request is');
  t.equal(env.engine.inFlight(), 1, 'in flight for runtime.compactWhenIdle: the one answer kept for Timer J');

  peer.send(msg);
  const again = await peer.next((m) => final(m) && m.includes('kept-1'));
  t.equal(again, first, 'a retransmission gets the same response, byte for byte');
  t.equal(seen, 1, 'without the app seeing the request again');

  peer.send(request('MESSAGE', uri, via, { callId: 'kept-1', fromTag: 'k1', branch: 'z9hG4bKkeptB', body: 'hi' }));
  t.equal(statusOf(await peer.next((m) => final(m) && m.includes('kept-1'))), 482, 'a merged copy of the answered request gets 482');

  const until = Date.now() + 10_000;
  while (env.engine.stats().answeredRequests > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.equal(env.engine.stats().answeredRequests, 0, 'after Timer J the answer is dropped');
  t.equal(env.engine.inFlight(), 0, 'nothing in flight after it');
  peer.send(msg);
  const late = await peer.next((m) => final(m) && m.includes('kept-1'));
  t.match(late, /X-Seen: 2/, 'a copy after Timer J is a new request to the app');
  t.equal(seen, 2);

  t.equal(env.engine.stats().answeredRequests, 1, 'and its answer is kept in its turn');
});

t.test('answered requests are bounded: past the bound the oldest answer goes early, and new requests are still taken', async (t) => {
  const env = await startEngineWithApp({ overload: { maxAnsweredRequests: 3, maxTransactions: 3 } });
  t.teardown(() => env.close());
  let seen = 0;
  env.srf.message((_req: any, res: any) => {
    seen++;
    res.send(200, { headers: { 'X-Seen': String(seen) } });
  });
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  const via = `UDP 127.0.0.1:${peer.port}`;
  const uri = `sip:bob@127.0.0.1:${env.sipPort}`;
  const msgs = [1, 2, 3, 4, 5].map((i) => request('MESSAGE', uri, via, { callId: `bound-${i}`, fromTag: `b${i}`, branch: `z9hG4bKbound${i}`, body: 'hi' }));
  for (const [i, m] of msgs.entries()) {
    peer.send(m);
    const answer = await peer.next((x) => final(x) && x.includes(`bound-${i + 1}`));
    t.equal(statusOf(answer), 200, `request ${i + 1} taken (answered requests do not count as transactions)`);
  }
  t.equal(env.engine.stats().answeredRequests, 3, 'at most the bound kept');
  t.equal(env.engine.stats().answeredDroppedEarly, 2, 'the two oldest went early');
  peer.send(msgs[4]!);
  t.match(await peer.next((x) => final(x) && x.includes('bound-5')), /X-Seen: 5/, 'a kept one is still answered from the store');
  peer.send(msgs[0]!);
  t.match(await peer.next((x) => final(x) && x.includes('bound-1')), /X-Seen: 6/, 'one that went early is taken as a new request');
  t.equal(seen, 6);
});

t.test('protocol edges over UDP', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  let messages = 0;
  env.srf.message((_req: any, res: any) => { messages++; setTimeout(() => res.send(200), 50); });
  env.srf.options((req: any) => env.srf.proxyRequest(req, [`sip:127.0.0.1:${env.sipPort}`]));
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  const via = `UDP 127.0.0.1:${peer.port}`;
  const uri = `sip:bob@127.0.0.1:${env.sipPort}`;

  const same = request('MESSAGE', uri, via, { branch: 'z9hG4bKretrans1', body: 'x' });
  peer.send(same);
  peer.send(same);
  const first = await peer.next(final);
  t.equal(statusOf(first), 200);
  peer.send(same);
  t.equal(statusOf(await peer.next(final)), 200, 'a retransmission is answered from the transaction');
  t.equal(messages, 1, 'the app saw the request once');

  const mf = request('MESSAGE', uri, via).replace('Max-Forwards: 70', 'Max-Forwards: 0');
  peer.send(mf);
  t.equal(statusOf(await peer.next(final)), 483, 'Max-Forwards 0 gets 483');

  peer.send(request('MESSAGE', uri, via, { callId: 'merged-1', fromTag: 'm1', branch: 'z9hG4bKmergeA', body: 'a' }));
  peer.send(request('MESSAGE', uri, via, { callId: 'merged-1', fromTag: 'm1', branch: 'z9hG4bKmergeB', body: 'a' }));
  const answers = [await peer.next((m) => final(m) && m.includes('merged-1')), await peer.next((m) => final(m) && m.includes('merged-1'))];
  t.same(answers.map(statusOf).sort(), [200, 482], 'the merged copy gets 482');

  peer.send(request('OPTIONS', uri, via, { callId: 'loop-1' }));
  t.equal(statusOf(await peer.next((m) => final(m) && m.includes('loop-1'))), 482, 'a request proxied back to the engine is a loop (482)');

  peer.send(request('MESSAGE', uri, via, { callId: 'bad-cseq' }).replace('CSeq: 1 MESSAGE', 'CSeq: 1 INVITE'));
  t.equal(statusOf(await peer.next((m) => m.includes('bad-cseq'))), 400, 'CSeq method mismatch gets 400');

  for (const junk of ['\x00\x01garbage', 'INVITE\r\n\r\n', 'SIP/2.0 200 OK\r\n\r\n', 'MESSAGE sip:a SIP/2.0\r\nVia: x\r\n\r\n']) peer.send(junk);
  peer.send(request('MESSAGE', uri, via, { callId: 'after-junk', body: 'ok' }));
  t.equal(statusOf(await peer.next((m) => m.includes('after-junk') && final(m))), 200, 'still serving after junk');
});

t.test('fuzzed traffic never stops the engine and memory stays bounded', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  env.srf.message((_req: any, res: any) => res.send(200));
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  const base = request('MESSAGE', `sip:bob@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { body: 'hello' });
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const deadline = Date.now() + 15000;
  for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
    const b = Buffer.from(base);
    for (let k = 0; k < 1 + rnd(6); k++) b[rnd(b.length)] = rnd(256);
    peer.send(b.subarray(0, b.length - rnd(20)).toString('latin1'));
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 500));
  peer.send(request('MESSAGE', `sip:bob@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'post-fuzz' }));
  t.equal(statusOf(await peer.next((m) => m.includes('post-fuzz') && final(m), 5000)), 200, 'answers after 3,000 mutated messages');
  const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
  t.ok(grown < 200, `RSS grew ${grown.toFixed(1)} MB (< 200 MB)`);
});

t.test('engine refuses to start on a taken wire port and names it', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  const other = new SipEngine({ contacts: ['sip:127.0.0.1:0;transport=udp'], wire: { host: '127.0.0.1', port: env.engine.wirePort, secret: 's' } });
  await t.rejects(other.start(), /EADDRINUSE/);
});

t.test('an app that disconnects mid-request: the caller gets 503, not silence', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  const leaving = await connectSrf(env.engine.wirePort, 'compat-secret');
  leaving.message(() => setTimeout(() => leaving.disconnect(), 50));
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  peer.send(request('MESSAGE', `sip:bob@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'orphan' }));
  t.equal(statusOf(await peer.next((m) => m.includes('orphan') && final(m))), 503);
});
