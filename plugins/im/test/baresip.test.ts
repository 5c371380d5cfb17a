/**
 * baresip 1.0.0, a softphone no one here wrote, exchanging MESSAGE through
 * the IM plugin (digest-challenged, MD5 only as baresip needs), and getting
 * the missed-conversation notice and a stored message when it registers.
 */
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { startBaresip, type Baresip } from '../../../test/helpers/baresip.ts';
import { D, addUser, pluginDir, webUser } from './helpers.ts';

const WAIT_MS = 15_000;

for (const storageUrl of storageUrlsForTests()) t.test(`baresip users through the IM plugin on ${storageUrl.split(':')[0]}`, async (t) => withTestDatabase(storageUrl, async (storage) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage, config: { sip: { registrar: { algorithms: ['MD5'] }, auth: { challengeMethods: ['MESSAGE'] } } } });
  const phones: Baresip[] = [];
  t.teardown(async () => {
    for (const p of phones) await p.stop();
    await host.close();
  });
  for (const u of ['alice', 'bob', 'carol']) await addUser(host, u);
  const phone = async (user: string) => {
    const p = await startBaresip({ user, password: `${user}-secret-pw`, domain: D, regint: 300, registrar: { host: '127.0.0.1', port: host.sipPort, transport: 'udp' } });
    phones.push(p);
    await p.waitRegistered(WAIT_MS);
    return p;
  };
  const alice = await phone('alice');
  const bob = await phone('bob');

  await alice.sendMessage(`sip:bob@${D}`, 'hello from baresip');
  const got = await bob.waitMessage((m) => m.text === 'hello from baresip', WAIT_MS);
  t.match(got.from, /^sip:alice@example\.test/, 'bob got it from alice');
  await bob.sendMessage(`sip:alice@${D}`, 'hi back');
  await alice.waitMessage((m) => m.text === 'hi back', WAIT_MS);
  t.pass('alice got the reply');

  // The harness's baresip sends to one contact per phone, so alice writes to carol from the web.
  const aliceWeb = await webUser(host, 'alice');
  t.equal((await aliceWeb('/messages', { method: 'POST', body: { to: 'carol', body: 'for later' } })).json.status, 'stored', 'stored for carol');
  const carol = await phone('carol');
  const notice = await carol.waitMessage((m) => /Missed conversation: 1 message from alice/.test(m.text), WAIT_MS);
  t.match(notice.from, /missed-conversations@example\.test/);
  await carol.waitMessage((m) => m.text === 'for later', WAIT_MS);
  t.pass('carol got the stored message when she registered');
  t.same((await webUser(host, 'bob').then((f) => f('/history'))).json.messages.map((m: { body: string }) => m.body), ['hello from baresip', 'hi back'], 'history');
}));
