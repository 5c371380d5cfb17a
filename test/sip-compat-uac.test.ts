/**
 * drachtio-srf apps acting as UAC, B2BUA and proxy on the embedded engine,
 * with sipp on both sides, over UDP and TCP.
 */
import t from 'tap';
import { runSipp, startSippServer, type SippServerOptions } from './helpers/sipp.ts';
import { startEngineWithApp, SDP, waitFor } from './helpers/engine.ts';

for (const [name, sippT] of [['udp', 'u1'], ['tcp', 't1']] as const) {
  const tp = name === 'tcp' ? ';transport=tcp' : '';
  const server = (scenario: string, extra: Partial<SippServerOptions> = {}) =>
    startSippServer({ scenario, transport: sippT, calls: 1, timeoutMs: 20000, ...extra });

  t.test(`UAC, B2BUA and proxy over ${name}`, async (t) => {
    const env = await startEngineWithApp();
    t.teardown(() => env.close());
    const { srf } = env;

    t.test('createUAC then BYE from the app', async (t) => {
      const uas = await server('uas-answer.xml');
      const dlg = await srf.createUAC(`sip:bob@127.0.0.1:${uas.port}${tp}`, { localSdp: SDP });
      t.match(dlg.remote.sdp, /m=audio/, 'answer SDP reached the app');
      await dlg.destroy();
      const r = await uas.done;
      t.equal(r.successful, 1, 'sipp UAS saw a complete call');
    });

    t.test('createUAC and CANCEL before answer', async (t) => {
      const uas = await server('uas-no-answer.xml');
      let cancelled = false;
      const p = srf.createUAC(`sip:bob@127.0.0.1:${uas.port}${tp}`, { localSdp: SDP }, {
        cbRequest: (_err: unknown, req: any) => setTimeout(() => { cancelled = true; req.cancel(); }, 300),
      });
      t.equal((await p.then(() => undefined, (e: { status?: number }) => e))?.status, 487, 'INVITE ends with 487 after CANCEL');
      t.ok(cancelled);
      t.equal((await uas.done).successful, 1, 'sipp UAS saw CANCEL and sent 487');
    });

    t.test('out-of-dialog MESSAGE from the app', async (t) => {
      const uas = await server('uas-200.xml');
      const res = await new Promise<any>((resolve, reject) => {
        srf.request(`sip:bob@127.0.0.1:${uas.port}${tp}`, { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain', From: '<sip:alice@localhost>' }, body: 'hello' }, (err: Error, req: any) => {
          if (err) return reject(err);
          req.on('response', (r: any) => r.status >= 200 && resolve(r));
        });
      });
      t.equal(res.status, 200);
      t.equal((await uas.done).successful, 1);
    });

    t.test('createB2BUA between two sipp legs', async (t) => {
      const uas = await server('uas-answer.xml');
      let bridged = 0;
      srf.invite(async (req: any, res: any, next: () => void) => {
        const svc = req.uri.split(':')[1].split('@')[0];
        if (svc !== 'b2b') return next();
        const { uas: a, uac: b } = await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${uas.port}${tp}`, { localSdpB: req.body });
        bridged++;
        // The caller's ACK and BYE may reach srf in the same read as the
        // answer that resolved createB2BUA (a loaded machine batches them), so
        // leg A can already be gone here: tear B down then, not only on 'destroy'.
        a.on('destroy', () => b.destroy());
        b.on('destroy', () => a.destroy());
        if (!a.connected) b.destroy();
        if (!b.connected) a.destroy();
      });
      const r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, transport: sippT, service: 'b2b', calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, `caller leg complete ${r.errors ?? ''}`);
      const callee = await uas.done;
      t.equal(callee.successful, 1, `callee leg complete ${callee.errors ?? ''}`);
      t.equal(bridged, 1);
    });

    t.test('proxyRequest: MESSAGE, record-routed call, serial failover, parallel fork, redirect', async (t) => {
      const results: any[] = [];
      let plan: { dest: string[]; opts: Record<string, unknown> } = { dest: [], opts: {} };
      srf.use('message', (req: any, _res: any) => void srf.proxyRequest(req, plan.dest, plan.opts).then((r: any) => results.push(r)));
      srf.use('invite', (req: any) => {
        void srf.proxyRequest(req, plan.dest, plan.opts).then((r: any) => results.push(r));
      });

      let uas = await server('uas-200.xml');
      plan = { dest: [`sip:127.0.0.1:${uas.port}${tp}`], opts: {} };
      let r = await runSipp({ scenario: 'uac-message.xml', target: env.target, transport: sippT, calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, 'MESSAGE proxied');
      t.equal((await uas.done).successful, 1);
      await waitFor<void>((done) => { const i = setInterval(() => results.length >= 1 && (clearInterval(i), done()), 20); }, 5000, 'proxy result');
      t.equal(results[0].finalStatus, 200, 'app got the proxy result');

      uas = await server('uas-answer.xml');
      plan = { dest: [`sip:callee@127.0.0.1:${uas.port}${tp}`], opts: { recordRoute: true } };
      r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, transport: sippT, service: 'proxied', calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, `record-routed call through the proxy (BYE via Record-Route) ${r.errors ?? ''}`);
      const callee = await uas.done;
      t.equal(callee.successful, 1, `callee saw ACK and BYE through the proxy ${callee.errors ?? ''}`);

      const busy = await server('uas-busy.xml');
      uas = await server('uas-answer.xml');
      plan = { dest: [`sip:a@127.0.0.1:${busy.port}${tp}`, `sip:b@127.0.0.1:${uas.port}${tp}`], opts: {} };
      r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, transport: sippT, service: 'serial', calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, `serial: 486 from the first target, 200 from the second ${r.errors ?? ''}`);
      t.equal((await busy.done).successful, 1);
      t.equal((await uas.done).successful, 1);

      const ringing = await server('uas-no-answer.xml');
      uas = await server('uas-answer.xml');
      plan = { dest: [`sip:a@127.0.0.1:${ringing.port}${tp}`, `sip:b@127.0.0.1:${uas.port}${tp}`], opts: { forking: 'simultaneous' } };
      r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, transport: sippT, service: 'fork', calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, `parallel fork answered by one target ${r.errors ?? ''}`);
      t.equal((await ringing.done).successful, 1, 'the ringing target was cancelled');
      t.equal((await uas.done).successful, 1);

      uas = await server('uas-answer.xml');
      const redirect = await server('uas-redirect.xml', { keys: { redirect_to: `sip:c@127.0.0.1:${uas.port}${tp}` } });
      plan = { dest: [`sip:r@127.0.0.1:${redirect.port}${tp}`], opts: { followRedirects: true } };
      r = await runSipp({ scenario: 'uac-invite-bye.xml', target: env.target, transport: sippT, service: 'redir', calls: 1, timeoutMs: 20000 });
      t.equal(r.successful, 1, `302 followed to the new target ${r.errors ?? ''}`);
      t.equal((await redirect.done).successful, 1);
      t.equal((await uas.done).successful, 1);
    });
  });
}
