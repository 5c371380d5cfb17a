/**
 * The presence policy (when a presence plugin provides one) and sipp as an
 * independent SIP client sending digest-challenged MESSAGEs through the IM
 * plugin to a registered user.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { runSipp } from '../../../test/helpers/sipp.ts';
import { D, addUser, bodyOf, header, pluginDir, SipUser, statusOf, webUser } from './helpers.ts';

const presenceDir = fileURLToPath(new URL('./fixtures/fake-presence', import.meta.url));

t.test('presence policy: blocked senders and Do Not Disturb look like offline', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir, presenceDir], sites: [D] });
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'erin', 'mallory']) await addUser(host, u);
  const mallory = await SipUser.open(host, 'mallory');
  const alice = await SipUser.open(host, 'alice');
  const bob = await SipUser.open(host, 'bob');
  const erin = await SipUser.open(host, 'erin');
  t.teardown(() => Promise.all([mallory.close(), alice.close(), bob.close(), erin.close()]));
  await bob.register();
  await erin.register();

  const blocked = await mallory.send('bob', 'let me talk to you');
  t.equal(statusOf(blocked), 480, 'a blocked sender is refused as if bob were offline');
  t.equal(statusOf(await mallory.send('bob', '<isComposing/>', 'application/im-iscomposing+xml')), 480, 'typing too');
  t.equal(statusOf(await mallory.send('erin', 'urgent!')), 480, 'DND keeps others out');
  t.equal(statusOf(await alice.send('erin', 'it is alice')), 200, 'DND lets the allowed sender through');
  t.equal(bodyOf(await erin.receive()), 'it is alice');
  t.equal(statusOf(await alice.send('bob', 'hi bob')), 200);
  t.equal(bodyOf(await bob.receive()), 'hi bob');
  t.equal(await bob.settle(500), 1, 'nothing from mallory reached bob');
  const malloryWeb = await webUser(host, 'mallory');
  t.equal((await malloryWeb('/messages', { method: 'POST', body: { to: 'bob', body: 'web?' } })).status, 480, 'over HTTP too');
  t.same((await malloryWeb('/history')).json.messages, [], 'refused messages are not kept or queued');
});

for (const storageUrl of storageUrlsForTests()) t.test(`sipp sends digest-challenged MESSAGEs through the IM plugin on ${storageUrl.split(':')[0]}`, async (t) => withTestDatabase(storageUrl, async (storage) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage, config: { sip: { auth: { challengeMethods: ['MESSAGE'] }, registrar: { algorithms: ['MD5', 'SHA-256'] } } } });
  t.teardown(() => host.close());
  const senders = ['s1', 's2', 's3', 's4', 's5'];
  for (const u of [...senders, 'inbox']) await addUser(host, u);
  const inbox = await SipUser.open(host, 'inbox');
  t.teardown(() => inbox.close());
  await inbox.register();

  const dir = mkdtempSync(join(tmpdir(), 'im-sipp-'));
  const inf = join(dir, 'users.csv');
  // sipp does not expand keywords inside [authentication …], so the whole header spec is a field.
  writeFileSync(inf, `SEQUENTIAL\n${senders.map((u) => `${u};${u}-secret-pw;[authentication username=${u} password=${u}-secret-pw]`).join('\n')}\n`);
  const r = await runSipp({ scenario: 'uac-message-auth.xml', target: `127.0.0.1:${host.sipPort}`, injectFile: inf, calls: senders.length, rate: 10, timeoutMs: 30_000, keys: { domain: D, to: 'inbox' } });
  t.equal(r.successful, senders.length, `every MESSAGE answered 200 (${r.errors ?? ''})`);
  const got: string[] = [];
  for (let i = 0; i < senders.length; i++) got.push(await inbox.receive());
  t.same(got.map((m) => bodyOf(m).trim()).sort(), senders.map((s) => `hello inbox from ${s}`).sort(), 'each delivered once');
  t.ok(got.every((m) => /<sip:s\d@example\.test>/.test(header(m, 'From'))), 'from the authenticated sender');
  t.equal(await inbox.settle(500), senders.length, 'no duplicates');
  const web = await webUser(host, 'inbox');
  t.equal((await web('/history')).json.messages.length, senders.length, 'kept in history');
}));
