// sipp, an independent SIP implementation, drives PUBLISH and SUBSCRIBE/NOTIFY end to end.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { runSipp } from '../../../test/helpers/sipp.ts';
import { presenceHost } from './helpers.ts';

const scenario = fileURLToPath(new URL('./sipp/presence-uac.xml', import.meta.url));

// Both engine threads: with "worker" the NOTIFYs cross to the engine's thread beside the wire, and the
// scenario's order (the 200 to a PUBLISH before the NOTIFY it causes) must hold there too.
for (const engineThread of ['main', 'worker'] as const) {
  t.test(`sipp: SUBSCRIBE, PUBLISH with entity tags, NOTIFYs, removal and unsubscribe (engine on the ${engineThread} thread)`, async (t) => {
    const host = await presenceHost(['alice'], {}, undefined, undefined, { sip: { engineThread } });
    t.teardown(() => host.close());
    const result = await runSipp({ scenario, target: `127.0.0.1:${host.sipPort}`, service: 'alice', calls: 1, timeoutMs: 30_000, traceMessages: true });
    if (result.exitCode !== 0) t.comment(JSON.stringify(result).slice(0, 6000));
    t.equal(result.exitCode, 0, 'sipp scenario succeeded');
    t.equal(result.stats?.successfulCall, 1);
  });
}
