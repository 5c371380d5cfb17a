import t from 'tap';
import { bodyOf, header, pidf, presenceHost, stateIn, statusOf, Ua, userClient } from './helpers.ts';

const PIDF = 'Content-Type: application/pidf+xml';

t.test('PUBLISH: entity tags, refresh, modify, removal, 412, 489, bad bodies change nothing', async (t) => {
  const host = await presenceHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const alice = await Ua.open('alice', host.sipPort);
  t.teardown(() => alice.close());
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => bob.close());
  const web = await userClient(host, 'bob');
  const aliceSeen = async () => (await web.call('GET', '/users/alice')).json.presence;

  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: dialog', PIDF], body: pidf('alice') })), 489, 'wrong event package');
  t.equal(statusOf(await alice.send('PUBLISH', 'nobody', { headers: ['Event: presence', PIDF], body: pidf('nobody') })), 404, 'unknown presentity');
  t.equal(statusOf(await bob.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF], body: pidf('alice') })), 403, 'only the presentity publishes');
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: text/plain'], body: 'busy' })), 415);
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF] })), 400, 'initial PUBLISH without body');

  const first = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, 'Expires: 600'], body: pidf('alice', { activities: '<rpid:busy/>', note: 'writing' }) });
  t.equal(statusOf(first), 200);
  const etag1 = header(first, 'SIP-ETag');
  t.ok(etag1, 'SIP-ETag given');
  t.equal(header(first, 'Expires'), '600');
  t.same(await aliceSeen(), { state: 'busy', note: 'writing', devices: [{ mobile: false, im: true }] }, 'company watcher sees state and note');

  for (const [what, body] of [
    ['malformed', '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.test"><tuple id="a">'],
    ['oversized', pidf('alice', { note: 'x'.repeat(20_000) })],
    ['not pidf', '<html><body>hi</body></html>'],
    ['bad basic', pidf('alice').replace('<basic>open</basic>', '<basic>ajar</basic>')],
  ] as const) {
    const r = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, `SIP-If-Match: ${etag1}`], body });
    t.equal(statusOf(r), 400, `${what} body: 400`);
  }
  t.equal((await aliceSeen()).state, 'busy', 'bad bodies changed nothing');

  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', 'SIP-If-Match: no-such-tag', 'Expires: 600'] })), 412, 'unknown entity tag');
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, 'Expires: 5'], body: pidf('alice') })), 423, 'below Min-Expires');

  const refresh = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', `SIP-If-Match: ${etag1}`, 'Expires: 900'] });
  t.equal(statusOf(refresh), 200, 'refresh');
  const etag2 = header(refresh, 'SIP-ETag');
  t.not(etag2, etag1, 'a refresh gets a new tag');
  t.equal(header(refresh, 'Expires'), '900');
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', `SIP-If-Match: ${etag1}`, 'Expires: 900'] })), 412, 'the old tag is gone');
  t.equal((await aliceSeen()).state, 'busy', 'refresh keeps the state');

  const modify = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, `SIP-If-Match: ${etag2}`], body: pidf('alice', { activities: '<rpid:on-the-phone/>' }) });
  t.equal(statusOf(modify), 200, 'modify');
  const etag3 = header(modify, 'SIP-ETag')!;
  t.same(await aliceSeen(), { state: 'in-a-call', devices: [{ mobile: false, im: true }] }, 'modified; the note went with the old document');

  // A second device (its own socket): composition (manual, most available wins).
  const alicePhone = await Ua.open('alice', host.sipPort);
  t.teardown(() => alicePhone.close());
  const phone = await alicePhone.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF], body: pidf('alice', { note: 'on my phone' }) });
  t.equal(statusOf(phone), 200);
  const seen = await aliceSeen();
  t.equal(seen.state, 'available', 'most available device wins');
  t.equal(seen.note, 'on my phone');
  t.equal(seen.devices.length, 2);

  // One socket is one device: an initial PUBLISH from the phone's socket again (it lost its
  // entity tag, or sent its first PUBLISH twice) replaces the phone's publication.
  const again = await alicePhone.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF], body: pidf('alice', { basic: 'closed', note: 'phone again' }) });
  t.equal(statusOf(again), 200);
  t.not(header(again, 'SIP-ETag'), header(phone, 'SIP-ETag'), 'a new entity tag');
  const replaced = await aliceSeen();
  t.equal(replaced.devices.length, 2, 'still two devices, not three');
  t.equal(replaced.state, 'in-a-call', 'the phone\'s old open state is gone: the desk device shows');
  t.equal(statusOf(await alicePhone.send('PUBLISH', 'alice', { headers: ['Event: presence', `SIP-If-Match: ${header(phone, 'SIP-ETag')}`, 'Expires: 60'] })), 412, 'the replaced tag is unknown');
  const reopened = await alicePhone.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, `SIP-If-Match: ${header(again, 'SIP-ETag')}`], body: pidf('alice', { note: 'on my phone' }) });
  t.equal(statusOf(reopened), 200);
  t.equal((await aliceSeen()).state, 'available');

  const removed = await alicePhone.send('PUBLISH', 'alice', { headers: ['Event: presence', `SIP-If-Match: ${header(reopened, 'SIP-ETag')}`, 'Expires: 0'] });
  t.equal(statusOf(removed), 200, 'removal');
  t.equal((await aliceSeen()).state, 'in-a-call', 'back to the remaining device');
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', `SIP-If-Match: ${etag3}`, 'Expires: 0'] })), 200);
  t.same(await aliceSeen(), { state: 'offline' }, 'nothing published: Offline');
  t.equal(bodyOf(removed), '');
  t.equal(stateIn(pidf('x')), undefined);
});

t.test('PUBLISH expiry removes the publication', async (t) => {
  const host = await presenceHost(['alice', 'bob'], { minExpires: 1 });
  t.teardown(() => host.close());
  const alice = await Ua.open('alice', host.sipPort);
  t.teardown(() => alice.close());
  const web = await userClient(host, 'bob');
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, 'Expires: 1'], body: pidf('alice', { activities: '<rpid:away/>' }) })), 200);
  let state = (await web.call('GET', '/users/alice')).json.presence.state;
  // Either still away (normal) or already gone (very slow machine): never anything else.
  t.ok(state === 'away' || state === 'offline');
  for (let i = 0; i < 200 && state !== 'offline'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    state = (await web.call('GET', '/users/alice')).json.presence.state;
  }
  t.equal(state, 'offline', 'expired');
});
