/**
 * Pager mode through a real host: MESSAGE between registered UDP clients
 * forked to every endpoint, isComposing relayed, store-and-forward with a
 * missed-conversation notice when the recipient registers, presence policy.
 */
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, bodyOf, header, imHost, pluginDir, setConfig, SipUser, statusOf, webUser } from './helpers.ts';

t.test('pager mode between SIP users', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'carol']) await addUser(host, u, u === 'alice' ? 'Alice Liddell' : u);
  const alice = await SipUser.open(host, 'alice');
  const bob1 = await SipUser.open(host, 'bob');
  const bob2 = await SipUser.open(host, 'bob');
  t.teardown(() => Promise.all([alice.close(), bob1.close(), bob2.close()]));
  await alice.register();
  await bob1.register();
  await bob2.register();

  const ok = await alice.send('bob', 'hello bob');
  t.equal(statusOf(ok), 200, 'delivered: 200');
  for (const [name, ua] of [['bob1', bob1], ['bob2', bob2]] as const) {
    const got = await ua.receive();
    t.equal(bodyOf(got), 'hello bob', `${name} got the body`);
    t.match(header(got, 'From'), /"Alice Liddell" <sip:alice@example\.test>/, `${name} sees the sender`);
    t.match(header(got, 'Content-Type'), /^text\/plain/);
  }

  const typing = '<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><contenttype>text/plain</contenttype></isComposing>';
  const composing = await alice.send('bob', typing, 'application/im-iscomposing+xml');
  t.equal(statusOf(composing), 200, 'isComposing relayed');
  const typed = await bob1.receive();
  t.match(header(typed, 'Content-Type'), /application\/im-iscomposing\+xml/);
  t.match(bodyOf(typed), /<state>active<\/state>/);
  await bob2.receive();

  const bobWeb = await webUser(host, 'bob');
  const history = await bobWeb('/history?with=alice');
  t.equal(history.status, 200);
  t.same(history.json.messages.map((m: { body: string }) => m.body), ['hello bob'], 'history keeps the message, not the typing indication');

  const carolTyping = await alice.send('carol', typing, 'application/im-iscomposing+xml');
  t.equal(statusOf(carolTyping), 480, 'typing to an offline user is not stored');
  const unknown = await alice.send('nobody', 'hi');
  t.equal(statusOf(unknown), 404, 'unknown users are left to the core (404)');
});

for (const storageUrl of storageUrlsForTests()) {
  t.test(`store and forward on ${storageUrl.split(':')[0]}: kept across a restart, delivered with a notice when the user registers`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const first = await createTestHost({ plugins: [pluginDir], sites: [D], storage });
      let host = first;
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'dave']) await addUser(host, u);
      const alice = await SipUser.open(host, 'alice');
      await alice.register();
      t.equal(statusOf(await alice.send('bob', 'are you there?')), 202, 'accepted for later delivery');
      t.equal(statusOf(await alice.send('bob', 'call me')), 202);
      const daveWeb = await webUser(host, 'dave');
      t.equal((await daveWeb('/messages', { method: 'POST', body: { to: 'bob', body: 'from the web' } })).json.status, 'stored');
      await alice.close();

      await first.close();
      host = await createTestHost({ plugins: [pluginDir], sites: [D], storage, adminPassword: first.adminPassword });
      const bob = await SipUser.open(host, 'bob');
      t.teardown(() => bob.close());
      await bob.register();
      const notice = await bob.receive();
      t.match(header(notice, 'From'), /"Missed conversations" <sip:missed-conversations@example\.test>/);
      t.match(bodyOf(notice), /3 messages from alice, dave/);
      const bodies = [bodyOf(await bob.receive()), bodyOf(await bob.receive()), bodyOf(await bob.receive())];
      t.same(bodies, ['are you there?', 'call me', 'from the web'], 'in order');
      t.match(header(bob.inbox[1]!, 'From'), /<sip:alice@example\.test>/, 'from the original sender');

      await bob.register();
      t.equal(await bob.settle(), 4, 'a second registration delivers nothing again');
    });
  });
}

t.test('a failed delivery stays queued for the next registration', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob']) await addUser(host, u);
  const alice = await SipUser.open(host, 'alice');
  const bob = await SipUser.open(host, 'bob');
  t.teardown(() => Promise.all([alice.close(), bob.close()]));
  await alice.register();
  await bob.register();
  bob.answerStatus = 486;
  t.equal(statusOf(await alice.send('bob', 'busy?')), 202, 'refused by every endpoint: stored');
  t.equal(bodyOf(await bob.receive()), 'busy?', 'the endpoint saw it and refused it');
  bob.answerStatus = 200;
  await bob.register();
  const notice = await bob.receive();
  t.match(bodyOf(notice), /1 message from alice/);
  t.equal(bodyOf(await bob.receive()), 'busy?');
  t.equal(await bob.settle(), 3, 'delivered once');
});

t.test('an endpoint that never answers does not hold the sender: stored, answered 202', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob']) await addUser(host, u);
  await setConfig(host, { deliveryWaitSeconds: 2 });
  const alice = await SipUser.open(host, 'alice');
  const bob = await SipUser.open(host, 'bob');
  t.teardown(() => Promise.all([alice.close(), bob.close()]));
  await bob.register();
  bob.answerStatus = 0;
  t.equal(statusOf(await alice.send('bob', 'anyone home?')), 202, 'stored after the wait');
  t.equal(bodyOf(await bob.receive()), 'anyone home?', 'the silent endpoint did get it');
  bob.answerStatus = 200;
  await bob.register();
  t.match(bodyOf(await bob.receive()), /1 message from alice/);
  t.equal(bodyOf(await bob.receive()), 'anyone home?', 'sent again: at least once');
  t.equal(await bob.settle(), 3, 'nothing more');
});
