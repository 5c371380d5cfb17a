/**
 * Overload: past its bound of requests in progress the engine answers new
 * out-of-dialog requests 503 with Retry-After (and counts them) instead of
 * queueing them without limit; once the app catches up it takes requests
 * again. A real overload: far more MESSAGEs than the app can finish (it
 * answers one at a time, each after a wait), sent as fast as a socket can.
 * Bounded in count (1,500 requests) and time (every wait has a deadline).
 * Also: an app connected in process over a LoopbackSocket.
 */
import t from 'tap';
import dgram from 'node:dgram';
import Srf from 'drachtio-srf';
import { SipEngine } from '../core/src/sip-engine/index.ts';
import { freePort } from './helpers/sipp.ts';
import { udpPeer, request, statusOf } from './helpers/raw-sip.ts';
import type { AnySrf } from './helpers/engine.ts';

const SECRET = 'overload-secret';

function srfOver(engine: SipEngine): Promise<AnySrf> {
  const srf = new (Srf as AnySrf)();
  srf.connect({ host: '127.0.0.1', port: engine.wirePort, secret: SECRET });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf did not connect within 5 s')), 5000);
    srf.once('connect', (err: Error | null) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(srf);
    });
  });
}

t.test('past maxPendingRequests new requests get 503 + Retry-After; the engine recovers', async (t) => {
  const sipPort = await freePort('udp');
  const BOUND = 50;
  const engine = new SipEngine({
    contacts: [`sip:127.0.0.1:${sipPort};transport=udp`],
    wire: { host: '127.0.0.1', port: 0, secret: SECRET },
    overload: { maxPendingRequests: BOUND, retryAfterSeconds: 7 },
  });
  await engine.start();
  t.teardown(() => engine.stop());
  const srf = await srfOver(engine);
  t.teardown(() => srf.disconnect());

  // A slow app: one request at a time, each answered 2 ms after the previous one (a busy database, say).
  let maxPendingSeen = 0;
  let answeredByApp = 0;
  let chain = Promise.resolve();
  srf.message((_req: unknown, res: { send(status: number): void }) => {
    maxPendingSeen = Math.max(maxPendingSeen, engine.stats().pendingRequests);
    chain = chain.then(() => new Promise<void>((resolve) => setTimeout(() => {
      res.send(200);
      answeredByApp++;
      resolve();
    }, 2)));
  });

  // The sender: its own socket, counting final answers by Call-ID.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  const port = sock.address().port;
  const finals = new Map<string, number>();
  let retryAfter = 0;
  let retryAfterMissing = 0;
  let refusedToTag = '';
  sock.on('message', (m) => {
    const text = m.toString('utf8');
    const status = statusOf(text);
    if (status < 200) return;
    const callId = /^Call-ID:\s*(\S+)/im.exec(text)?.[1] ?? '';
    if (!finals.has(callId)) finals.set(callId, status);
    if (status === 503) {
      refusedToTag = /^To:.*;tag=([^;\s]+)/im.exec(text)?.[1] ?? refusedToTag;
      const ra = /^Retry-After:\s*(\d+)/im.exec(text);
      if (ra) retryAfter = Number(ra[1]);
      else retryAfterMissing++;
    }
  });

  const TOTAL = 1500;
  for (let i = 0; i < TOTAL; i++) {
    const msg = request('MESSAGE', `sip:bob@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${port}`, { callId: `ovl-${i}`, branch: `z9hG4bK-ovl-${i}`, body: `message ${i}` });
    sock.send(Buffer.from(msg), sipPort, '127.0.0.1');
    // Yield now and then so the socket buffers never overflow: the overload is the app's, not the kernel's.
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }

  // Every request gets a final answer (200 from the app, or 503 from the engine), within a deadline.
  const deadline = Date.now() + 60_000;
  while (finals.size < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(finals.size, TOTAL, 'every request was answered');
  const counts = { ok: 0, unavailable: 0, other: 0 };
  for (const s of finals.values()) {
    if (s === 200) counts.ok++;
    else if (s === 503) counts.unavailable++;
    else counts.other++;
  }
  t.ok(counts.unavailable > 0, `the overload was refused (${counts.unavailable} answered 503)`);
  t.ok(counts.ok >= BOUND, `requests within the bound were served (${counts.ok} answered 200)`);
  t.equal(counts.other, 0, 'no other answers');
  t.equal(retryAfter, 7, 'the 503 carries Retry-After with the configured seconds');
  t.equal(retryAfterMissing, 0, 'every 503 carries Retry-After');
  t.equal(engine.stats().overloadRejected, counts.unavailable, 'the engine counted each refusal');
  t.ok(maxPendingSeen <= BOUND, `requests in progress stayed within the bound (at most ${maxPendingSeen})`);
  t.equal(answeredByApp, counts.ok, 'the app saw only the requests the engine took on');

  // Drained: new requests are taken again.
  while (engine.stats().pendingRequests > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
  t.teardown(() => peer.close());
  peer.send(request('MESSAGE', `sip:bob@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'after-overload', body: 'again' }));
  t.equal(statusOf(await peer.next((m) => m.includes('after-overload') && statusOf(m) >= 200, 10_000)), 200, 'after the overload a request is served');
  t.equal(engine.stats().overloadRejected, counts.unavailable, 'and not refused');

  // What sipp does after a 503 it did not expect: a BYE with the 503's To tag. No dialog has it.
  t.ok(refusedToTag, 'the 503 carried a To tag');
  peer.send(request('BYE', `sip:bob@example.test`, `UDP 127.0.0.1:${peer.port}`, { callId: 'ovl-0', toTag: refusedToTag }));
  t.equal(statusOf(await peer.next((m) => m.includes('ovl-0') && m.includes('BYE'), 10_000)), 481, 'a BYE for a refused request is answered 481 at once');
  t.equal(engine.stats().pendingRequests, 0, 'and nothing is left in progress');
});

t.test('an app in the same process over a LoopbackSocket', async (t) => {
  const sipPort = await freePort('udp');
  const engine = new SipEngine({ contacts: [`sip:127.0.0.1:${sipPort};transport=udp`], wire: { host: '127.0.0.1', port: 0, secret: SECRET } });
  await engine.start();
  t.teardown(() => engine.stop());

  const socket = engine.openLoopback();
  const frames: string[] = [];
  socket.on('data', (d: Buffer) => frames.push(d.toString('utf8')));
  const payload = 'a1|authenticate|wrong-secret|';
  socket.write(`${Buffer.byteLength(payload)}#${payload}`);
  const deadline = Date.now() + 5000;
  while (!frames.join('').includes('NOK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.match(frames.join(''), /a1\|NOK\|authentication failed/, 'the secret is still checked');

  const net = await import('node:net');
  const real = net.default.connect;
  const srf = new (Srf as AnySrf)();
  let socketUsed: import('node:net').Socket | undefined;
  (net.default as { connect: unknown }).connect = () => (socketUsed = engine.openLoopback());
  try {
    srf.connect({ host: '127.0.0.1', port: engine.wirePort, secret: SECRET });
  } finally {
    net.default.connect = real;
  }
  t.ok(socketUsed, 'srf took the in-process socket');
  process.nextTick(() => socketUsed!.emit('connect'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf did not connect within 5 s')), 5000);
    srf.once('connect', (err: Error | null) => (clearTimeout(timer), err ? reject(err) : resolve()));
  });
  srf.options((_req: unknown, res: { send(status: number, opts?: unknown): void }) => res.send(200, { headers: { 'X-Via': 'loopback' } }));
  await new Promise((r) => setTimeout(r, 100));

  const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
  t.teardown(() => peer.close());
  for (let i = 0; i < 20; i++) peer.send(request('OPTIONS', `sip:x@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: `lb-${i}` }));
  for (let i = 0; i < 20; i++) {
    const res = await peer.next((m) => m.includes(`lb-${i}`), 5000);
    t.equal(statusOf(res), 200, `OPTIONS ${i} answered by the app`);
    if (i === 0) t.match(res, /X-Via: loopback/, 'with the app\'s header');
  }
  t.equal(engine.stats().apps, 1, 'one app connected (the rejected loopback was closed)');

  srf.disconnect();
  const until = Date.now() + 5000;
  while (engine.stats().apps > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.equal(engine.stats().apps, 0, 'disconnecting the app closes its end in the engine');
});

t.test('requests that would otherwise stay in progress for ever', async (t) => {
  const sipPort = await freePort('udp');
  // T1 of 20 ms: 64*T1 is 1.28 s.
  const engine = new SipEngine({ contacts: [`sip:127.0.0.1:${sipPort};transport=udp`], wire: { host: '127.0.0.1', port: 0, secret: SECRET }, timers: { t1: 20, t2: 160, t4: 200 } });
  await engine.start();
  t.teardown(() => engine.stop());
  const srf = await srfOver(engine);
  t.teardown(() => srf.disconnect());
  srf.message(() => { /* never answers */ });
  srf.bye(() => { /* never answers */ });
  await new Promise((r) => setTimeout(r, 100));
  const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
  t.teardown(() => peer.close());

  peer.send(request('BYE', `sip:bob@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'no-such-call', toTag: 'sb1234' }));
  t.equal(statusOf(await peer.next((m) => m.includes('no-such-call'), 5000)), 481, 'a BYE for no dialog is answered 481, not handed to the app');
  peer.send(request('BYE', `sip:bob@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'no-dialog-at-all' }));
  t.equal(statusOf(await peer.next((m) => m.includes('no-dialog-at-all'), 5000)), 481, 'so is a BYE without a To tag');
  t.equal(engine.stats().pendingRequests, 0, 'neither is left in progress');

  peer.send(request('MESSAGE', `sip:bob@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'never-answered', body: 'hello?' }));
  const seen = Date.now() + 5000;
  while (engine.stats().pendingRequests === 0 && Date.now() < seen) await new Promise((r) => setTimeout(r, 10));
  t.equal(engine.stats().pendingRequests, 1, 'the unanswered MESSAGE is in progress');
  const until = Date.now() + 15_000;
  while (engine.stats().pendingRequests > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.equal(engine.stats().pendingRequests, 0, 'after 64*T1 it no longer counts (its client has given up)');
  t.equal(engine.stats().serverTransactions, 0, 'and its transaction is gone');
});
