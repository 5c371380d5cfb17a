import t from 'tap';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { pidf, presenceHost, stateIn, statusOf, Ua, userClient } from './helpers.ts';

const customStates = [{ id: 'at-lunch', label: 'At lunch', base: 'away' }, { id: 'focus', label: 'Focus time', base: 'do-not-disturb' }];

for (const storage of storageUrlsForTests()) {
  t.test(`site-defined states over HTTP and SIP (${storage.startsWith('sqlite') ? 'SQLite' : 'MariaDB'})`, async (t) => {
    await withTestDatabase(storage, async (url) => {
      const host = await presenceHost(['alice', 'bob', 'dave'], { customStates }, url);
      t.teardown(() => host.close());
      const alice = await userClient(host, 'alice');
      const bob = await userClient(host, 'bob');
      const dave = await userClient(host, 'dave');
      t.same((await alice.call('GET', '/states')).json.custom, customStates);
      t.equal((await alice.call('PUT', '/me', { state: 'available', custom: 'napping' })).status, 400, 'undefined custom state');
      const set = await alice.call('PUT', '/me', { state: 'available', custom: 'at-lunch', note: 'back at 1' });
      t.equal(set.status, 200);
      t.equal(set.json.presence.state, 'away', 'composes as its base state');
      t.equal(set.json.presence.custom, 'at-lunch');
      t.same((await alice.call('GET', '/me')).json.manual, { state: 'away', custom: 'at-lunch', note: 'back at 1' }, 'stored');
      t.same((await bob.call('GET', '/users/alice')).json.presence, { state: 'away', custom: 'at-lunch', note: 'back at 1', devices: [{ mobile: false, im: true }] }, 'company sees the custom state');
      await alice.call('PUT', '/access/dave', { level: 'public' });
      t.same((await dave.call('GET', '/users/alice')).json.presence, { state: 'away' }, 'public sees the coarse base state only');

      // SIP: a published custom state the site defines; and one it does not.
      const ua = await Ua.open('alice', host.sipPort);
      t.teardown(() => ua.close());
      await alice.call('DELETE', '/me');
      const withCustom = (id: string) => pidf('alice').replace('</dm:person>', `<sb:custom xmlns:sb="urn:switchboard:params:xml:ns:presence">${id}</sb:custom></dm:person>`);
      const pub = await ua.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: application/pidf+xml'], body: withCustom('focus') });
      t.equal(statusOf(pub), 200);
      const seen = (await bob.call('GET', '/users/alice')).json.presence;
      t.equal(seen.state, 'do-not-disturb');
      t.equal(seen.custom, 'focus');
      t.equal(statusOf(await ua.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: application/pidf+xml'], body: withCustom('unheard-of') })), 200);
      const bobUa = await Ua.open('bob', host.sipPort);
      t.teardown(() => bobUa.close());
      const callId = `cs-${Date.now()}`;
      t.ok([200, 202].includes(statusOf(await bobUa.send('SUBSCRIBE', 'alice', { callId, headers: ['Event: presence', 'Expires: 600'] }))));
      const notify = await bobUa.nextNotify((m) => m.includes(callId));
      t.equal(stateIn(notify), 'available', 'the undefined custom state was dropped; most available wins');
      t.notMatch(notify, /unheard-of/);
    });
  });
}
