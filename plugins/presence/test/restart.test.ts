// A restart keeps contact lists and access levels, and ends the subscriptions of the last
// run cleanly: sipp (as a registered watcher) gets NOTIFY terminated;reason=deactivated in
// its stored dialog and subscribes anew against the restarted host on the same SIP port.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { freePort, runSipp } from '../../../test/helpers/sipp.ts';
import { header, presenceHost, statusOf, tagOf, Ua, userClient } from './helpers.ts';

const scenario = fileURLToPath(new URL('../../../test/sipp/presence-restart.xml', import.meta.url));

for (const storage of storageUrlsForTests()) {
  const kind = storage.startsWith('sqlite') ? 'SQLite' : 'MariaDB';
  t.test(`restart on ${kind}: lists and levels stay; subscribers are told to subscribe anew`, async (t) => {
    await withTestDatabase(storage, async (url) => {
      const password = 'presence-restart-pw-2';
      const port = await freePort('udp');
      // sipp answers digest challenges with MD5 only.
      const hostConfig = { sip: { contacts: [`sip:127.0.0.1:${port};transport=udp,tcp`], registrar: { algorithms: ['MD5', 'SHA-256'] } } };
      const dir = mkdtempSync(join(tmpdir(), 'presence-restart-'));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      const injectFile = join(dir, 'users.csv');
      writeFileSync(injectFile, 'SEQUENTIAL\nbob;[authentication username=bob password=pw-bob-secret]\n');
      let host = await presenceHost(['alice', 'bob', 'carol'], {}, url, password, hostConfig);
      let sipp: ReturnType<typeof runSipp> | undefined;
      const alicePeer = await Ua.open('alice', port);
      const carolPeer = await Ua.open('carol', port);
      try {
        const alice = await userClient(host, 'alice');
        t.equal((await alice.call('PUT', '/me', { state: 'busy' })).status, 200);
        t.equal((await alice.call('POST', '/contacts', { address: 'bob', tagged: true })).status, 201);
        t.equal((await alice.call('POST', '/contacts', { address: '+1 555 0100', displayName: 'Front desk' })).status, 201);
        t.equal((await alice.call('PUT', '/access/carol', { level: 'blocked' })).status, 200);

        // alice watches her watchers, to know when sipp's subscription is in place.
        const winfo = await alicePeer.send('SUBSCRIBE', 'alice', { headers: ['Event: presence.winfo', 'Expires: 600'] });
        t.ok([200, 202].includes(statusOf(winfo)));
        // carol (not registered) subscribes too: after the restart she learns it at her refresh (481).
        const carolCall = `restart-carol-${Date.now()}`;
        const carolOk = await carolPeer.send('SUBSCRIBE', 'alice', { callId: carolCall, fromTag: 'cft', headers: ['Event: presence', 'Expires: 600'] });
        t.ok([200, 202].includes(statusOf(carolOk)));

        sipp = runSipp({ scenario, target: `127.0.0.1:${port}`, service: 'alice', injectFile, calls: 1, timeoutMs: 60_000, traceMessages: true });
        await alicePeer.nextNotify((m) => m.includes('application/watcherinfo+xml') && m.includes('sip:bob@example.test'), 20_000);

        await host.close();
        host = await presenceHost([], {}, url, password, hostConfig);

        const result = await sipp;
        sipp = undefined;
        if (result.exitCode !== 0) t.comment(JSON.stringify(result).slice(0, 8000));
        t.equal(result.exitCode, 0, 'sipp: final NOTIFY deactivated after the restart, then a new subscription works');
        t.equal(result.stats?.successfulCall, 1);

        const refresh = await carolPeer.send('SUBSCRIBE', 'alice', { callId: carolCall, fromTag: 'cft', toTag: tagOf(header(carolOk, '(?:to|t)')), cseq: 2, headers: ['Event: presence', 'Expires: 600'] });
        t.equal(statusOf(refresh), 481, 'an unreachable subscriber learns it at its refresh');

        const again = await userClient(host, 'alice');
        const me = (await again.call('GET', '/me')).json;
        t.equal(me.manual.state, 'busy', 'manual state kept');
        const lists = (await again.call('GET', '/contacts')).json;
        t.same(lists.contacts.map((c: { address: string; kind: string; tagged: boolean }) => [c.address, c.kind, c.tagged]),
          [['bob@example.test', 'user', true], ['tel:+15550100', 'phone', false]], 'contact list kept, phone-number contact included');
        t.same((await again.call('GET', '/access')).json.grants, [{ watcher: 'carol@example.test', level: 'blocked' }], 'access levels kept');
      } finally {
        if (sipp) await sipp.catch(() => undefined);
        await alicePeer.close();
        await carolPeer.close();
        await host.close();
      }
    });
  });
}
