// sip.engineThread: with "worker" the embedded engine runs on a thread of its
// own. Checked from outside: the main thread holds no SIP socket (it does
// with "main"), the core's Srf still connects and a SIP request is answered
// through it, the engine's log records come out of the host's logger, a
// stop releases the SIP port, and a contact that cannot be bound fails the
// start with the engine's own error.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import pino from 'pino';
import Srf from 'drachtio-srf';
import { loadConfig } from '../src/config/index.ts';
import { SipConnection } from '../src/host/sip-connection.ts';
import type { SipRouter } from '../src/host/sip-router.ts';
import { quietPort } from '../../test/helpers/sipp.ts';
import { udpPeer, request, statusOf } from '../../test/helpers/raw-sip.ts';

/** A logger whose JSON records are kept for the test to read. */
function capturingLogger(): { log: pino.Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), records };
}

type Direct = (target: { dialogId: string } | { uri: string }, method: string, headers: Record<string, string>, body?: string) => Promise<number>;

/** A router that answers every OPTIONS 200 and keeps the engine's wire-less request path it is handed. */
function optionsRouter(held: { direct?: Direct } = {}): SipRouter {
  return {
    useDirect: (fn: Direct | undefined) => {
      held.direct = fn;
    },
    hostMethods: () => [],
    attach(srf: Srf) {
      // options() is missing from drachtio-srf's typings.
      (srf as unknown as { options(h: (req: unknown, res: Srf.SrfResponse) => void): void }).options((_req, res) => res.send(200, { headers: { 'X-Answered-By': 'core-srf' } }));
    },
  } as unknown as SipRouter;
}

async function connected(conn: SipConnection): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (conn.state !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

for (const engineThread of ['main', 'worker'] as const) {
  t.test(`sip.engineThread = ${engineThread}`, async (t) => {
    const sipPort = await quietPort(['udp']);
    const config = loadConfig({
      env: {},
      overrides: { sip: { engineThread, contacts: [`sip:127.0.0.1:${sipPort};transport=udp`] }, admin: { password: 'thread-test-password' } },
    });
    t.equal(config.sip.engineThread, engineThread, 'the config key is read');
    const { log, records } = capturingLogger();
    // Sockets closed just before (the port probe) leave the list on a later tick.
    await new Promise((r) => setTimeout(r, 50));
    const before = udpHandles();
    const held: { direct?: Direct } = {};
    const conn = new SipConnection(config.sip, log, optionsRouter(held));
    let stopped = false;
    t.teardown(() => (stopped ? undefined : conn.stop()));
    await conn.start();
    await connected(conn);
    t.equal(conn.state, 'connected', 'the core Srf is connected and authenticated');
    if (engineThread === 'worker') t.equal(udpHandles(), before, 'the main thread holds no SIP socket');
    else t.equal(udpHandles(), before + 1, 'the SIP socket is on the main thread');

    const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
    peer.send(request('OPTIONS', `sip:127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: `thread-${engineThread}` }));
    const answer = await peer.next((m) => m.includes(`thread-${engineThread}`) && statusOf(m) >= 200);
    t.equal(statusOf(answer), 200, 'a request is answered by the core Srf');
    t.match(answer, /X-Answered-By: core-srf/, 'through the app, not by the engine alone');

    // The wire-less path (ctx.sip.requestInDialog, and sendToUser's MESSAGEs) reaches the engine on either thread.
    t.ok(held.direct, 'the engine offers requests without the wire');
    t.equal(await held.direct!({ dialogId: 'no-such-dialog' }, 'NOTIFY', { Event: 'presence' }, ''), 481, 'a request in an unknown dialog: 481');
    await t.rejects(held.direct!({ dialogId: 'no-such-dialog' }, 'INVITE', {}), /cannot be sent this way/, 'INVITE is left to drachtio-srf');
    await t.rejects(held.direct!({ uri: `sip:bob@127.0.0.1:${peer.port}` }, 'SUBSCRIBE', {}), /cannot be sent this way/, 'so is a request that creates a dialog');
    const sent = held.direct!({ uri: `sip:bob@127.0.0.1:${peer.port}` }, 'MESSAGE', { From: '<sip:alice@example.test>', To: '<sip:bob@example.test>', 'Content-Type': 'text/plain' }, `hello over the ${engineThread} thread`);
    const message = await peer.next((m) => m.startsWith('MESSAGE '));
    t.match(message, new RegExp(`hello over the ${engineThread} thread`), 'an out-of-dialog MESSAGE reaches the peer with its body');
    t.match(message, /^Call-ID: .+$/m, 'completed by the engine (Call-ID)');
    t.match(message, /^From: <sip:alice@example.test>;tag=/m, 'with a From tag');
    const keep = message.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    peer.send(['SIP/2.0 202 Accepted', ...keep, 'Content-Length: 0', '', ''].join('\r\n'));
    t.equal(await sent, 202, "its final status comes back");

    const mem = await conn.engineThreadMemory(true);
    if (engineThread === 'worker') {
      t.ok(mem && mem.heapUsed > 0 && mem.heapTotal >= mem.heapUsed, `the engine thread's heap is read (${Math.round((mem?.heapUsed ?? 0) / 1024)} KiB in use)`);
      t.equal(mem?.collected, typeof (globalThis as { gc?: unknown }).gc === 'function', 'collected only when node exposes gc');
    } else {
      t.equal(mem, undefined, 'no separate engine heap on the main thread');
    }

    const started = records.find((r) => r.msg === 'SIP engine started');
    t.ok(started, "the engine's records come out of the host's logger");
    t.equal(started?.component, 'sip-engine', 'tagged with the engine component');

    await peer.close();
    await conn.stop();
    stopped = true;
    t.equal(await conn.engineThreadMemory(), undefined, 'nothing to read once stopped');
    t.equal(held.direct, undefined, 'the path is withdrawn on stop');
    await new Promise((r) => setTimeout(r, 50));
    t.equal(udpHandles(), before, 'no SIP socket left on the main thread');
    // The port is free again once the engine (and its thread) stopped.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(sipPort, '127.0.0.1', () => resolve());
    });
    probe.close();
    t.pass('the SIP port is released on stop');
  });
}

t.test('sip.engineThread = worker: a contact that cannot be bound fails the start with the reason', async (t) => {
  const sipPort = await quietPort(['udp']);
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(sipPort, '127.0.0.1', () => resolve()));
  t.teardown(() => holder.close());
  const config = loadConfig({
    env: {},
    overrides: { sip: { engineThread: 'worker', contacts: [`sip:127.0.0.1:${sipPort};transport=udp`] }, admin: { password: 'thread-test-password' } },
  });
  const conn = new SipConnection(config.sip, pino({ level: 'silent' }), optionsRouter());
  t.teardown(() => conn.stop());
  const err = await conn.start().then(() => undefined, (e: unknown) => e as Error & { code?: string });
  t.ok(err, 'start fails');
  t.equal(err?.code, 'SIP_ERR_BIND', 'with the engine error code');
  t.match(err?.message ?? '', String(sipPort), 'naming the port');
});
