/**
 * RFC 3261 §17 timers seen from the wire: Timer E/F (non-INVITE client
 * retransmits, then 408), engine-generated ACK for non-2xx, Timer G/H
 * (server INVITE retransmits its failure until ACK), 2xx ACK resent.
 * T1 is shortened so the test runs in seconds.
 */
import t from 'tap';
import { startEngineWithApp, SDP } from './helpers/engine.ts';
import { udpPeer, statusOf, request } from './helpers/raw-sip.ts';

const timers = { t1: 50, t2: 400, t4: 500 };
const header = (m: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(m)?.[1] ?? '';
function answer(req: string, status: number, reason: string, extra: string[] = [], body = ''): string {
  return [`SIP/2.0 ${status} ${reason}`, ...req.split('\r\n').filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l)),
    `To: ${header(req, 'To')}${/tag=/.test(header(req, 'To')) ? '' : ';tag=peer1'}`, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

t.test('transactions', async (t) => {
  const env = await startEngineWithApp({ timers });
  t.teardown(() => env.close());
  const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => peer.close());
  const peerUri = `sip:bob@127.0.0.1:${peer.port}`;

  await t.test('non-INVITE client: retransmits with one branch, then 408 to the app', async (t) => {
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      env.srf.request(peerUri, { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain', 'Call-ID': 'silent-1' }, body: 'anyone?' }, (err: Error, req: any) => {
        if (err) return reject(err);
        req.on('response', (res: any) => resolve(res.status));
      });
    });
    t.equal(status, 408, 'Timer F gives the app 408');
    t.ok(Date.now() - started >= 64 * timers.t1 - 50, 'not before 64*T1');
    const copies = peer.received.filter((m) => m.includes('Call-ID: silent-1'));
    t.ok(copies.length >= 5, `request retransmitted (${copies.length} copies)`);
    t.equal(new Set(copies.map((m) => /branch=([^;\s]+)/.exec(m)?.[1])).size, 1, 'all copies share one branch');
  });

  await t.test('INVITE client: a failure is ACKed by the engine, and again when retransmitted', async (t) => {
    const p = env.srf.createUAC(peerUri, { localSdp: SDP, headers: { 'Call-ID': 'busy-1' } });
    const inv = await peer.next((m) => m.startsWith('INVITE ') && m.includes('busy-1'));
    const busy = answer(inv, 486, 'Busy Here');
    peer.send(busy);
    t.equal((await p.then(() => undefined, (e: { status?: number }) => e))?.status, 486, 'the app sees 486');
    const ack = await peer.next((m) => m.startsWith('ACK ') && m.includes('busy-1'));
    t.equal(/branch=([^;\s]+)/.exec(ack)?.[1], /branch=([^;\s]+)/.exec(inv)?.[1], 'ACK reuses the INVITE branch');
    t.match(header(ack, 'CSeq'), new RegExp(`^${header(inv, 'CSeq').split(' ')[0]} ACK$`));
    t.match(header(ack, 'To'), /tag=peer1/);
    peer.send(busy);
    await peer.next((m) => m.startsWith('ACK ') && m.includes('busy-1'));
    t.pass('a retransmitted 486 is ACKed again');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(peer.received.filter((m) => m.startsWith('ACK ') && !m.includes('busy-1')).length, 0, 'no other ACK reached the wire');
  });

  await t.test('INVITE server: 486 is retransmitted until the ACK', async (t) => {
    env.srf.invite((req: any, res: any) => res.send(486));
    await new Promise((r) => setTimeout(r, 50));
    peer.send(request('INVITE', `sip:x@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'g-1', branch: 'z9hG4bKtimerg', body: SDP }));
    const first = await peer.next((m) => statusOf(m) === 486);
    await peer.next((m) => statusOf(m) === 486, 1000);
    await peer.next((m) => statusOf(m) === 486, 1000);
    t.pass('Timer G retransmits the final response');
    const tag = /tag=([^;\s]+)/.exec(header(first, 'To'))?.[1];
    peer.send(request('ACK', `sip:x@127.0.0.1:${env.sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'g-1', branch: 'z9hG4bKtimerg', toTag: tag ?? '' }));
    await new Promise((r) => setTimeout(r, 300));
    const count = peer.received.filter((m) => statusOf(m) === 486 && m.includes('g-1')).length;
    await new Promise((r) => setTimeout(r, 900));
    t.equal(peer.received.filter((m) => statusOf(m) === 486 && m.includes('g-1')).length, count, 'no retransmission after the ACK');
  });

  await t.test('a retransmitted 2xx gets the app\'s ACK again', async (t) => {
    const p = env.srf.createUAC(peerUri, { localSdp: SDP, headers: { 'Call-ID': 'ok-1' } });
    const inv = await peer.next((m) => m.startsWith('INVITE ') && m.includes('ok-1'));
    const ok = answer(inv, 200, 'OK', [`Contact: <sip:bob@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'], SDP);
    peer.send(ok);
    const dlg = await p;
    await peer.next((m) => m.startsWith('ACK ') && m.includes('ok-1'));
    peer.send(ok);
    const again = await peer.next((m) => m.startsWith('ACK ') && m.includes('ok-1'));
    t.match(header(again, 'CSeq'), /ACK$/);
    const bye = dlg.destroy();
    const byeReq = await peer.next((m) => m.startsWith('BYE ') && m.includes('ok-1'));
    peer.send(answer(byeReq, 200, 'OK'));
    await bye;
    t.equal(env.engine.stats().dialogs, 0, 'dialog gone after BYE');
  });
});
