// Requests the host answers without the wire (SipEngine.serveHost): with the
// embedded engine on either thread and sip.wire.inProcess (the default), a
// REGISTER goes to the router's serveHost as plain data and never reaches
// the core's Srf; the engine builds the response from the answer (headers
// copied from the request, a To tag, several lines of one header, the
// reason), absorbs a retransmission with the same bytes, and leaves other
// methods to the Srf. With sip.wire.inProcess = false REGISTER goes through
// the Srf as before. After stop the host no longer serves it.
import t from 'tap';
import pino from 'pino';
import type Srf from 'drachtio-srf';
import { loadConfig } from '../src/config/index.ts';
import { SipConnection } from '../src/host/sip-connection.ts';
import type { SipRouter } from '../src/host/sip-router.ts';
import type { HostAnswer, HostRequest } from '../src/sip-engine/host-requests.ts';
import { HostSipRequest, HostSipResponse } from '../src/host/host-sip-request.ts';
import { quietPort } from '../../test/helpers/sipp.ts';
import { udpPeer, request, statusOf } from '../../test/helpers/raw-sip.ts';

interface Seen {
  host: HostRequest[];
  srf: string[];
}

/** A router whose serveHost answers REGISTER 401 with two challenges through HostSipResponse; its Srf answers REGISTER 500 and OPTIONS 200. */
function router(seen: Seen): SipRouter {
  return {
    useDirect: () => undefined,
    hostMethods: () => ['REGISTER'],
    serveHost: (r: HostRequest, answer: (a: HostAnswer) => void) => {
      seen.host.push(r);
      const req = new HostSipRequest(r);
      const res = new HostSipResponse(r.id, answer);
      // As the registrar writes challenges for drachtio-srf: several lines in one value.
      res.send(401, { headers: { 'WWW-Authenticate': 'Digest realm="a", algorithm=SHA-256\r\nWWW-Authenticate: Digest realm="a", algorithm=MD5', 'X-Seen-From': `${req.protocol}:${req.source_address}:${req.source_port}`, 'X-Seen-Contact': req.get('m') ?? '' } });
      // A second final answer for the same transaction: the engine ignores it.
      answer({ id: r.id, status: 200 });
      return Promise.resolve();
    },
    attach(srf: Srf) {
      // register() and options() are missing from drachtio-srf's typings, and its send() typing wants no reason.
      const untyped = srf as unknown as Record<'register' | 'options', (h: (req: Srf.SrfRequest, res: { send(status: number, reason?: string): void }) => void) => void>;
      untyped.register((req, res) => {
        seen.srf.push(req.method);
        res.send(500, 'Through The Srf');
      });
      untyped.options((req, res) => {
        seen.srf.push(req.method);
        res.send(200);
      });
    },
  } as unknown as SipRouter;
}

const cases = [
  { name: 'engine on the main thread', sip: { engineThread: 'main' as const }, direct: true },
  { name: 'engine on a worker thread', sip: { engineThread: 'worker' as const }, direct: true },
  { name: 'sip.wire.inProcess = false', sip: { engineThread: 'main' as const, wire: { host: '127.0.0.1', port: 0, inProcess: false } }, direct: false },
];

for (const c of cases) {
  t.test(`REGISTER without the wire: ${c.name}`, async (t) => {
    const sipPort = await quietPort(['udp']);
    const config = loadConfig({ env: {}, overrides: { sip: { ...c.sip, contacts: [`sip:127.0.0.1:${sipPort};transport=udp`] }, admin: { password: 'host-requests-password' } } });
    const seen: Seen = { host: [], srf: [] };
    const conn = new SipConnection(config.sip, pino({ level: 'silent' }), router(seen));
    let stopped = false;
    t.teardown(() => (stopped ? undefined : conn.stop()));
    await conn.start();
    const deadline = Date.now() + 10_000;
    while (conn.state !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.equal(conn.state, 'connected');

    const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
    t.teardown(() => peer.close());
    const reg = request('REGISTER', `sip:127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: `host-reg-${c.sip.engineThread}`, branch: 'z9hG4bKhostreg1', extra: ['m: <sip:alice@127.0.0.1:5099>'] });
    peer.send(reg);
    const answer = await peer.next((m) => m.includes('host-reg-') && statusOf(m) >= 200);
    if (!c.direct) {
      t.equal(statusOf(answer), 500, 'answered by the Srf');
      t.same(seen.srf, ['REGISTER'], 'the Srf saw it');
      t.equal(seen.host.length, 0, 'the host path was not used');
    } else {
      t.equal(statusOf(answer), 401, 'answered with the host\'s status');
      t.same(seen.srf, [], 'the Srf never saw it');
      t.equal(seen.host.length, 1, 'the host got it once');
      const r = seen.host[0]!;
      t.equal(r.method, 'REGISTER');
      t.equal(r.uri, `sip:127.0.0.1:${sipPort}`);
      t.equal(r.transport, 'udp');
      t.same([r.address, r.port], ['127.0.0.1', peer.port], 'where it came from');
      t.ok(r.headers.some(([n, v]) => n === 'm' && v === '<sip:alice@127.0.0.1:5099>'), 'headers as received (a compact name kept)');
      t.match(answer, /^SIP\/2\.0 401 Unauthorized\r\n/, 'the standard reason phrase');
      t.match(answer, new RegExp(`^Via: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${peer.port};branch=z9hG4bKhostreg1`, 'm'), 'Via copied');
      t.match(answer, /^To: <sip:bob@example\.test>;tag=\S+$/m, 'a To tag added');
      t.match(answer, /^CSeq: 1 REGISTER$/m);
      t.equal(answer.split('\r\n').filter((l) => l.startsWith('WWW-Authenticate: Digest')).length, 2, 'two challenge lines from one value');
      t.match(answer, /^X-Seen-From: udp:127\.0\.0\.1:\d+$/m, 'the adapter gives transport and source as drachtio-srf does');
      t.match(answer, /^X-Seen-Contact: <sip:alice@127\.0\.0\.1:\d+>,<sip:alice@127\.0\.0\.1:5099>$/m, 'get() reads the Contact and the compact m line, joined');
      await new Promise((r) => setTimeout(r, 200));
      t.equal(peer.received.filter((m) => m.includes('host-reg-')).length, 1, 'a second final answer from the host is not sent');
      // A retransmission (same branch) gets the same answer from the engine; the host does not see it again.
      peer.send(reg);
      const again = await peer.next((m) => m.includes('host-reg-') && statusOf(m) >= 200);
      t.equal(again, answer, 'a retransmission gets the same bytes');
      t.equal(seen.host.length, 1, 'and is not handed over again');
    }
    // Other methods still go to the Srf.
    peer.send(request('OPTIONS', `sip:127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'host-opt' }));
    t.equal(statusOf(await peer.next((m) => m.includes('host-opt') && statusOf(m) >= 200)), 200, 'OPTIONS answered by the Srf');
    t.ok(seen.srf.includes('OPTIONS'));
    await conn.stop();
    stopped = true;
  });
}

t.test('HostSipRequest reads headers as drachtio-srf does', async (t) => {
  const r = new HostSipRequest({ id: '1', method: 'REGISTER', uri: 'sip:a.test', headers: [['Contact', '<sip:a@1>'], ['contact', '<sip:a@2>'], ['i', 'cid'], ['Expires', '60']], body: '', transport: 'tcp', address: '10.0.0.1', port: 5070 });
  t.same(r.getRawHeaders('Contact'), ['<sip:a@1>', '<sip:a@2>'], 'every line, either case');
  t.equal(r.get('CONTACT'), '<sip:a@1>,<sip:a@2>', 'lines joined by commas as drachtio-srf joins them');
  t.equal(r.get('Call-ID'), 'cid', 'compact i is Call-ID');
  t.equal(r.get('Path'), undefined);
  t.same([r.protocol, r.source_address, r.source_port], ['tcp', '10.0.0.1', 5070]);
  const answers: HostAnswer[] = [];
  const res = new HostSipResponse('1', (a) => answers.push(a));
  res.send(100);
  t.equal(res.finalResponseSent, false, 'a provisional is not final');
  res.send(423, 'Interval Too Brief', { headers: { 'Min-Expires': '60' } });
  t.equal(res.finalResponseSent, true);
  res.send(200);
  t.same(answers, [{ id: '1', status: 100 }, { id: '1', status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', '60']] }]);
});
