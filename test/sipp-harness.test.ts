// Checks the sipp scenarios in test/sipp/ and the harness in
// test/helpers/sipp.ts independently of Switchboard's SIP engine: each UAC
// scenario runs against its UAS counterpart sipp-to-sipp (UDP and TCP), and
// through a real Kamailio proxy, which matches CANCEL/ACK by branch and
// follows route sets, so a scenario that gets SIP wrong fails here rather
// than being blamed on the engine later.
//
// The scenarios end on their last message, without <timewait>: over TCP the
// peer that finishes first closes the connection, and sipp counts a call
// still in timewait on a closed connection as failed (FailedTcpClosed).
import t from 'tap';
import { freePort, runSipp, startSippServer, type SippResult, type SippTransport } from './helpers/sipp.ts';
import { startKamailio } from '../bench/kamailio/kamailio-peer.ts';

/** A tap subtest (the last overload of t.test takes just the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const KAMAILIO_PROXY_CFG = new URL('./sipp/kamailio-proxy.cfg', import.meta.url).pathname;

interface Pair {
  uac: string;
  uas: string;
  keys?: Record<string, string>;
}

const PAIRS: Pair[] = [
  { uac: 'uac-options.xml', uas: 'uas-200.xml' },
  { uac: 'uac-message.xml', uas: 'uas-200.xml' },
  { uac: 'uac-register.xml', uas: 'uas-200.xml' },
  { uac: 'uac-invite-bye.xml', uas: 'uas-answer.xml' },
  { uac: 'uac-invite-cancel.xml', uas: 'uas-no-answer.xml' },
  { uac: 'uac-reinvite.xml', uas: 'uas-answer.xml' },
  { uac: 'uac-info.xml', uas: 'uas-answer.xml' },
  { uac: 'uac-refer.xml', uas: 'uas-refer.xml' },
  { uac: 'uac-subscribe.xml', uas: 'uas-notify-after-subscribe.xml' },
  { uac: 'uac-invite-100rel.xml', uas: 'uas-100rel.xml' },
  { uac: 'uac-invite-rejected.xml', uas: 'uas-busy.xml' },
  { uac: 'uac-invite-rejected.xml', uas: 'uas-redirect.xml', keys: { redirect_to: 'sip:moved@127.0.0.1:5999' } },
];

/** Pairs whose in-dialog traffic is worth checking through a record-routing proxy. */
const PROXIED = new Set(['uac-invite-bye.xml', 'uac-invite-cancel.xml', 'uac-reinvite.xml', 'uac-info.xml',
  'uac-refer.xml', 'uac-subscribe.xml', 'uac-invite-100rel.xml', 'uac-invite-rejected.xml']);

function explain(res: SippResult): string {
  return `exit ${res.exitCode}, ok ${res.successful}, failed ${res.failed}\n${res.errors ?? ''}\n${res.stderr}`;
}

async function runPair(t: TapTest, pair: Pair, transport: SippTransport, via?: (uasPort: number) => Promise<string>): Promise<void> {
  const server = await startSippServer({ scenario: pair.uas, transport, calls: 1, timeoutMs: 15_000, keys: pair.keys });
  try {
    const target = via ? await via(server.port) : `127.0.0.1:${server.port}`;
    const uac = await runSipp({ scenario: pair.uac, target, transport, calls: 1, timeoutMs: 10_000, traceMessages: true });
    const uas = await server.done;
    t.equal(uac.exitCode, 0, `UAC ${pair.uac} ends cleanly: ${explain(uac)}`);
    t.equal(uac.successful, 1, 'the UAC call succeeded');
    t.equal(uas.exitCode, 0, `UAS ${pair.uas} ends cleanly: ${explain(uas)}`);
    t.equal(uas.successful, 1, 'the UAS call succeeded');
    if (pair.keys?.redirect_to) {
      t.match(uac.messages ?? '', `Contact: <${pair.keys.redirect_to}>`, 'the redirect carries the -key Contact');
    }
  } finally {
    await server.stop();
  }
}

for (const transport of ['u1', 't1'] as const) {
  for (const pair of PAIRS) {
    t.test(`${pair.uac} against ${pair.uas} (${transport})`, async (t) => runPair(t, pair, transport));
  }
}

t.test('through a Kamailio record-routing proxy (UDP)', async (t) => {
  for (const pair of PAIRS.filter((p) => PROXIED.has(p.uac))) {
    await t.test(`${pair.uac} -> kamailio -> ${pair.uas}`, async (t) => {
      let kamailio: Awaited<ReturnType<typeof startKamailio>> | undefined;
      try {
        await runPair(t, pair, 'u1', async (uasPort) => {
          kamailio = await startKamailio({
            config: KAMAILIO_PROXY_CFG,
            port: await freePort('udp'),
            defines: { UAS_URI: `"sip:127.0.0.1:${uasPort}"` },
          });
          return `127.0.0.1:${kamailio.port}`;
        });
      } finally {
        await kamailio?.stop();
      }
    });
  }
});

t.test('UAC scenarios against Kamailio answering as a UAS (the benchmark config)', async (t) => {
  const kamailio = await startKamailio({ port: await freePort('udp') });
  t.teardown(() => kamailio.stop());
  for (const scenario of ['uac-options.xml', 'uac-message.xml', 'uac-register.xml', 'uac-invite-bye.xml']) {
    const res = await runSipp({ scenario, target: `127.0.0.1:${kamailio.port}`, calls: 20, rate: 100, timeoutMs: 10_000 });
    t.equal(res.exitCode, 0, `${scenario}: ${explain(res)}`);
    t.equal(res.successful, 20, `${scenario}: all 20 calls succeed`);
    t.equal(res.stats?.retransmissions, 0, `${scenario}: no retransmission on loopback`);
  }
});

t.test('the harness reports failures', async (t) => {
  await t.test('nobody listening: the call fails within the timeout', async (t) => {
    const port = await freePort('udp');
    const res = await runSipp({ scenario: 'uac-options.xml', target: `127.0.0.1:${port}`, calls: 1, timeoutMs: 1500 });
    t.not(res.exitCode, 0, 'sipp exits non-zero');
    t.equal(res.successful, 0, 'no call succeeded');
    t.equal(res.killed, false, 'sipp ended on its own timeout, no kill needed');
  });
  await t.test('a scenario expecting 200 fails on a 486', async (t) => {
    const server = await startSippServer({ scenario: 'uas-busy.xml', calls: 1, timeoutMs: 10_000 });
    t.teardown(() => server.stop());
    const res = await runSipp({ scenario: 'uac-invite-bye.xml', target: `127.0.0.1:${server.port}`, calls: 1, timeoutMs: 3000 });
    t.not(res.exitCode, 0, 'sipp exits non-zero');
    t.equal(res.failed, 1, 'the call is counted as failed');
  });
  await t.test('traceRtt returns one response time per call', async (t) => {
    const server = await startSippServer({ scenario: 'uas-200.xml', calls: 5, timeoutMs: 10_000 });
    t.teardown(() => server.stop());
    const res = await runSipp({ scenario: 'uac-options.xml', target: `127.0.0.1:${server.port}`, calls: 5, rate: 50, timeoutMs: 5000, traceRtt: true });
    t.equal(res.successful, 5);
    t.equal(res.rtts?.length, 5, 'five response times');
    t.ok(res.rtts?.every((v) => v >= 0), 'response times are non-negative numbers');
  });
});
