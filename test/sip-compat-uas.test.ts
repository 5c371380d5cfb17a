/**
 * drachtio-srf apps acting as UAS on the embedded engine, with sipp as the
 * far end, over UDP and TCP.
 */
import t from 'tap';

/**
 * The peer's ACK and BYE can reach srf in the same read as the answer that
 * resolved createUAS (a loaded machine batches them): the dialog may be gone
 * before a listener could be attached, so check as well as listen.
 */
function onDestroy(dialog: { connected: boolean; on(event: 'destroy', fn: () => void): unknown }, fn: () => void): void {
  if (!dialog.connected) fn();
  else dialog.on('destroy', fn);
}
import { runSipp } from './helpers/sipp.ts';
import { startEngineWithApp, SDP, type EngineWithApp } from './helpers/engine.ts';

for (const [name, sippT] of [['udp', 'u1'], ['tcp', 't1']] as const) {
  t.test(`UAS over ${name}`, async (t) => {
    const env: EngineWithApp = await startEngineWithApp();
    t.teardown(() => env.close());
    const { srf } = env;
    const seen: Record<string, number> = {};
    const count = (k: string) => (seen[k] = (seen[k] ?? 0) + 1);

    srf.options((req: any, res: any) => { count('options'); res.send(200, { headers: { Allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE' } }); });
    srf.message((req: any, res: any) => { count(`message:${req.body}`); res.send(200); });
    srf.register((req: any, res: any) => {
      count('register');
      res.send(200, { headers: { Contact: req.get('Contact'), Expires: '3600' } });
    });
    srf.subscribe(async (req: any, res: any) => {
      count('subscribe');
      const dlg = await srf.createUAS(req, res, { headers: { Expires: req.get('Expires') || '3600' } });
      await dlg.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=3600', 'Content-Type': 'text/plain' }, body: 'open' });
      dlg.on('subscribe', (r: any, s: any) => { count('refresh'); s.send(200, { headers: { Expires: r.get('Expires') } }); });
      dlg.on('unsubscribe', async () => {
        count('unsubscribe');
        await dlg.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'terminated;reason=timeout' } });
      });
    });
    srf.invite(async (req: any, res: any) => {
      const svc = req.uri.split(':')[1].split('@')[0];
      count(`invite:${svc}`);
      if (svc === 'cancel') {
        res.send(180);
        req.on('cancel', () => count('cancelled'));
        return;
      }
      if (svc === 'prack') {
        res.send(183, { headers: { Require: '100rel' }, body: SDP }, null, async () => {
          count('prack');
          const d = await srf.createUAS(req, res, { localSdp: SDP });
          onDestroy(d, () => count('destroy'));
        });
        return;
      }
      const dlg = await srf.createUAS(req, res, { localSdp: SDP });
      onDestroy(dlg, () => count('destroy'));
      dlg.on('modify', (r: any, s: any) => { count('modify'); s.send(200, { body: SDP }); });
      dlg.on('info', (r: any, s: any) => { count('info'); s.send(200); });
      dlg.on('refer', async (r: any, s: any) => {
        count('refer');
        s.send(202);
        await dlg.request({ method: 'NOTIFY', headers: { Event: 'refer', 'Subscription-State': 'terminated;reason=noresource', 'Content-Type': 'message/sipfrag;version=2.0' }, body: 'SIP/2.0 200 OK\r\n' });
      });
    });
    await new Promise((r) => setTimeout(r, 100));

    const run = (scenario: string, service?: string, calls = 3) =>
      runSipp({ scenario, target: env.target, transport: sippT, calls, rate: 10, timeoutMs: 20000, ...(service ? { service } : {}) });

    for (const [scenario, service, key, expected] of [
      ['uac-options.xml', undefined, 'options', 3],
      ['uac-message.xml', undefined, undefined, 3],
      ['uac-register.xml', undefined, 'register', 3],
      ['uac-invite-bye.xml', 'call', 'invite:call', 3],
      ['uac-invite-cancel.xml', 'cancel', 'cancelled', 3],
      ['uac-reinvite.xml', 'call', 'modify', 3],
      ['uac-info.xml', 'call', 'info', 3],
      ['uac-refer.xml', 'call', 'refer', 3],
      ['uac-subscribe.xml', 'pres', 'unsubscribe', 3],
      ['uac-invite-100rel.xml', 'prack', 'prack', 3],
    ] as const) {
      const before = key ? seen[key] ?? 0 : 0;
      const r = await run(scenario, service);
      t.equal(r.failed, 0, `${scenario}: sipp saw no failed call (${r.errors?.slice(0, 400) ?? ''})`);
      t.equal(r.successful, 3, `${scenario}: 3 successful calls`);
      if (key) t.equal((seen[key] ?? 0) - before, expected, `${scenario}: app handled ${key} ${expected} times`);
    }
    t.ok((seen['destroy'] ?? 0) >= 3, 'dialogs ended by the far end BYE emit destroy in the app');
    t.same(env.engine.stats().dialogs, 0, 'no dialogs left in the engine');
  });
}
