/** proxyRequest provisional and final timeouts: a silent or ringing target is abandoned for the next one. */
import t from 'tap';
import { runSipp, startSippServer } from './helpers/sipp.ts';
import { startEngineWithApp } from './helpers/engine.ts';
import { udpPeer } from './helpers/raw-sip.ts';

t.test('proxy timeouts', async (t) => {
  const env = await startEngineWithApp();
  t.teardown(() => env.close());
  let plan: { dest: string[]; opts: Record<string, unknown> } = { dest: [], opts: {} };
  const results: any[] = [];
  env.srf.invite((req: any) => void env.srf.proxyRequest(req, plan.dest, plan.opts).then((r: any) => results.push(r)));
  await new Promise((r) => setTimeout(r, 100));

  const silent = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
  t.teardown(() => silent.close());
  let uas = await startSippServer({ scenario: 'uas-answer.xml', calls: 1, timeoutMs: 20000 });
  plan = { dest: [`sip:a@127.0.0.1:${silent.port}`, `sip:b@127.0.0.1:${uas.port}`], opts: { provisionalTimeout: '1s' } };
  let r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, service: 'prov', calls: 1, timeoutMs: 20000 });
  t.equal(r.successful, 1, `no 100 from the first target within 1 s: the second answers ${r.errors ?? ''}`);
  t.equal((await uas.done).successful, 1);
  t.ok(silent.received.some((m) => m.startsWith('INVITE ')), 'the silent target was tried first');

  const ringing = await startSippServer({ scenario: 'uas-no-answer.xml', calls: 1, timeoutMs: 20000 });
  uas = await startSippServer({ scenario: 'uas-answer.xml', calls: 1, timeoutMs: 20000 });
  plan = { dest: [`sip:a@127.0.0.1:${ringing.port}`, `sip:b@127.0.0.1:${uas.port}`], opts: { finalTimeout: '1500ms' } };
  r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, service: 'final', calls: 1, timeoutMs: 20000 });
  t.equal(r.successful, 1, `ringing target cancelled after 1.5 s, the next answers ${r.errors ?? ''}`);
  t.equal((await ringing.done).successful, 1, 'the ringing target got CANCEL');
  t.equal((await uas.done).successful, 1);
  t.equal(results.length, 2);
  t.equal(results[1].finalStatus, 200);
});
