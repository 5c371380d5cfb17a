import t from 'tap';
import { bodyOf, header, pidf, presenceHost, stateIn, statusOf, tagOf, Ua, userClient } from './helpers.ts';

const PIDF = 'Content-Type: application/pidf+xml';

t.test('SUBSCRIBE/NOTIFY: initial NOTIFY, NOTIFY on change, refresh, unsubscribe, fetch, filtering', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  const alice = await Ua.open('alice', host.sipPort);
  const bob = await Ua.open('bob', host.sipPort);
  const carol = await Ua.open('carol', host.sipPort);
  t.teardown(() => Promise.all([alice.close(), bob.close(), carol.close()]));

  const pub = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF], body: pidf('alice', { activities: '<rpid:meeting/>', note: 'planning' }) });
  t.equal(statusOf(pub), 200);

  t.equal(statusOf(await bob.send('SUBSCRIBE', 'nobody', { headers: ['Event: presence', 'Expires: 600'] })), 404, 'unknown presentity');
  t.equal(statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence', 'Accept: text/plain', 'Expires: 600'] })), 406, 'unacceptable Accept');
  t.equal(statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence', 'Expires: 3'] })), 423, 'below Min-Expires');

  const callId = `sub-bob-${Date.now()}`;
  const ok = await bob.send('SUBSCRIBE', 'alice', { callId, fromTag: 'bobtag', headers: ['Event: presence', 'Accept: application/pidf+xml', 'Expires: 600'] });
  t.ok([200, 202].includes(statusOf(ok)), `accepted (${statusOf(ok)})`);
  t.equal(header(ok, 'Expires'), '600');
  const toTag = tagOf(header(ok, '(?:to|t)'));
  t.ok(toTag, 'the 2xx established a dialog');
  const contact = /<([^>]+)>/.exec(header(ok, '(?:contact|m)') ?? '')?.[1];

  const first = await bob.nextNotify((m) => m.includes(callId));
  t.match(header(first, 'Subscription-State'), /^active;expires=\d+/);
  t.equal(header(first, 'Event'), 'presence');
  t.equal(header(first, 'Content-Type'), 'application/pidf+xml');
  t.equal(stateIn(first), 'in-a-meeting', 'initial NOTIFY has the current state');
  t.match(bodyOf(first), /planning/, 'company level sees the note');

  const count = bob.notifies.length;
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF, `SIP-If-Match: ${header(pub, 'SIP-ETag')}`], body: pidf('alice', { activities: '<rpid:busy/><rpid:other>dnd</rpid:other>' }) })), 200);
  const changed = await bob.nextNotify((m) => m.includes(callId) && stateIn(m) === 'do-not-disturb', 15_000, count);
  t.notMatch(bodyOf(changed), /urgent-interruptions-only/, 'company watchers get no urgent flag');

  // Access level from the web: bob becomes Team, sees the urgent flag in the next NOTIFY.
  const aliceWeb = await userClient(host, 'alice');
  t.equal((await aliceWeb.call('PUT', '/access/bob', { level: 'team' })).status, 200);
  await bob.nextNotify((m) => m.includes(callId) && m.includes('urgent-interruptions-only'));

  // In-dialog refresh.
  const before = bob.notifies.length;
  const refresh = await bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'bobtag', toTag, cseq: 2, headers: ['Event: presence', 'Expires: 900'] });
  t.equal(statusOf(refresh), 200, 'refresh accepted');
  t.equal(header(refresh, 'Expires'), '900');
  t.match(header(await bob.nextNotify((m) => m.includes(callId), 15_000, before), 'Subscription-State'), /^active;expires=(9\d\d|8\d\d)/, 'NOTIFY after refresh');

  // Blocked watcher: politely blocked, sees Offline and no note.
  t.equal((await aliceWeb.call('PUT', '/access/carol', { level: 'blocked' })).status, 200);
  const carolCall = `sub-carol-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await carol.send('SUBSCRIBE', 'alice', { callId: carolCall, headers: ['Event: presence', 'Expires: 600'] }))));
  const blocked = await carol.nextNotify((m) => m.includes(carolCall));
  t.equal(stateIn(blocked), 'offline');
  t.notMatch(bodyOf(blocked), /planning|<note>|dm:note/);

  // Unsubscribe: final NOTIFY terminated.
  const unsubscribed = bob.notifies.length;
  const unsub = await bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'bobtag', toTag, cseq: 3, headers: ['Event: presence', 'Expires: 0'] });
  t.ok([200, 202].includes(statusOf(unsub)), 'unsubscribe accepted');
  const final = await bob.nextNotify((m) => m.includes(callId) && /terminated/.test(header(m, 'Subscription-State') ?? ''), 15_000, unsubscribed);
  t.match(header(final, 'Subscription-State'), /^terminated/);
  const again = await bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'bobtag', toTag, cseq: 4, headers: ['Event: presence', 'Expires: 600'] });
  t.equal(statusOf(again), 481, 'the dialog is gone');

  // Fetch: Expires 0 out of dialog gets the state in a terminating NOTIFY.
  const fetchCall = `fetch-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { callId: fetchCall, headers: ['Event: presence', 'Expires: 0'] }))));
  const fetched = await bob.nextNotify((m) => m.includes(fetchCall));
  t.match(header(fetched, 'Subscription-State'), /^terminated/);
  t.equal(stateIn(fetched), 'do-not-disturb');

  // Other event packages are not ours.
  t.not(statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: message-summary', 'Expires: 600'] })), 202);
});

t.test('subscription expiry, per-user limit, and a subscriber that went away', async (t) => {
  const host = await presenceHost(['alice', 'bob'], { minExpires: 1, maxSubscriptionsPerUser: 2 });
  t.teardown(() => host.close());
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => bob.close());

  const short = `short-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { callId: short, headers: ['Event: presence', 'Expires: 2'] }))));
  await bob.nextNotify((m) => m.includes(short) && /^active/.test(header(m, 'Subscription-State') ?? ''));
  const expired = await bob.nextNotify((m) => m.includes(short) && /^terminated/.test(header(m, 'Subscription-State') ?? ''), 30_000);
  t.match(header(expired, 'Subscription-State'), /reason=timeout/, 'expiry ends with reason=timeout');

  const a = `lim-a-${Date.now()}`;
  const b = `lim-b-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { callId: a, headers: ['Event: presence', 'Expires: 600'] }))));
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { callId: b, headers: ['Event: presence', 'Expires: 600'] }))));
  t.equal(statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence', 'Expires: 600'] })), 403, 'third subscription over the limit');

  // The subscriber answers 481 to the next NOTIFY: its subscription is dropped, freeing a slot.
  await bob.nextNotify((m) => m.includes(b));
  bob.notifyStatus = 481;
  const alice = await Ua.open('alice', host.sipPort);
  t.teardown(() => alice.close());
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: application/pidf+xml'], body: pidf('alice', { activities: '<rpid:away/>' }) })), 200);
  await bob.nextNotify((m) => m.includes(a) && stateIn(m) === 'away');
  await bob.nextNotify((m) => m.includes(b) && stateIn(m) === 'away');
  bob.notifyStatus = 200;
  let status = 0;
  for (let i = 0; i < 50 && status !== 202 && status !== 200; i++) {
    status = statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence', 'Expires: 600'] }));
    if (status === 403) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(status === 202 || status === 200, 'slots freed after 481s');
});

t.test('watcher information (presence.winfo) and web state changes reach SIP watchers', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  const alice = await Ua.open('alice', host.sipPort);
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => Promise.all([alice.close(), bob.close()]));

  t.equal(statusOf(await bob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence.winfo', 'Expires: 600'] })), 403, 'only alice may see her watchers');
  const winfoCall = `winfo-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await alice.send('SUBSCRIBE', 'alice', { callId: winfoCall, headers: ['Event: presence.winfo', 'Accept: application/watcherinfo+xml', 'Expires: 600'] }))));
  const empty = await alice.nextNotify((m) => m.includes(winfoCall));
  t.equal(header(empty, 'Content-Type'), 'application/watcherinfo+xml');
  t.equal(header(empty, 'Event'), 'presence.winfo');
  t.match(bodyOf(empty), /<watcher-list resource="sip:alice@example\.test" package="presence"><\/watcher-list>/, 'nobody watches yet');

  const callId = `watch-${Date.now()}`;
  const ok = await bob.send('SUBSCRIBE', 'alice', { callId, fromTag: 'bt', headers: ['Event: presence', 'Expires: 600'] });
  t.ok([200, 202].includes(statusOf(ok)));
  const listed = await alice.nextNotify((m) => m.includes(winfoCall) && m.includes('sip:bob@example.test'));
  t.match(bodyOf(listed), /status="active"/);
  t.match(bodyOf(listed), /version="[1-9]/, 'version increases');

  // The web client sets a state: the SIP watcher hears of it.
  await bob.nextNotify((m) => m.includes(callId));
  const before = bob.notifies.length;
  const web = await userClient(host, 'alice');
  t.equal((await web.call('PUT', '/me', { state: 'be-right-back', note: 'lunch' })).status, 200);
  const notified = await bob.nextNotify((m) => m.includes(callId), 15_000, before);
  t.equal(stateIn(notified), 'be-right-back');
  t.match(bodyOf(notified), /lunch/);

  const seen = alice.notifies.length;
  const unsub = await bob.send('SUBSCRIBE', 'alice', {
    ruri: /<([^>]+)>/.exec(header(ok, '(?:contact|m)') ?? '')?.[1], callId, fromTag: 'bt', toTag: tagOf(header(ok, '(?:to|t)')), cseq: 2,
    headers: ['Event: presence', 'Expires: 0'],
  });
  t.ok([200, 202].includes(statusOf(unsub)));
  await alice.nextNotify((m) => m.includes(winfoCall) && !m.includes('sip:bob@example.test'), 15_000, seen);
  t.pass('the watcher left the list');
});
