import t from 'tap';
import { LiveSession, presenceHost, stateIn, statusOf, Ua, userClient } from './helpers.ts';

t.test('live: a browser session is a web device; watchers get presence.changed filtered by their level', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol', 'dave', 'erin']);
  t.teardown(() => host.close());
  const aliceHttp = await userClient(host, 'alice');
  const bobHttp = await userClient(host, 'bob');
  // bob lists alice (default level: company); erin is alice's team; carol public; dave blocked.
  t.equal((await bobHttp.call('POST', '/contacts', { address: 'alice', tagged: true })).status, 201);
  t.equal((await aliceHttp.call('PUT', '/access/erin', { level: 'team' })).status, 200);
  t.equal((await aliceHttp.call('PUT', '/access/carol', { level: 'public' })).status, 200);
  t.equal((await aliceHttp.call('PUT', '/access/dave', { level: 'blocked' })).status, 200);

  const bob = await LiveSession.open(host, 'bob');
  const carol = await LiveSession.open(host, 'carol');
  const dave = await LiveSession.open(host, 'dave');
  const erin = await LiveSession.open(host, 'erin');
  t.teardown(() => Promise.all([bob.close(), carol.close(), dave.close(), erin.close()]));

  // A SIP watcher of alice too, to see that both paths show the same composition.
  const sipBob = await Ua.open('bob', host.sipPort);
  t.teardown(() => sipBob.close());
  t.ok([200, 202].includes(statusOf(await sipBob.send('SUBSCRIBE', 'alice', { headers: ['Event: presence', 'Expires: 600'] }))));
  t.equal(stateIn(await sipBob.nextNotify()), 'offline', 'alice is offline before she signs in');

  // carol, erin and dave watch alice explicitly: the reply carries the current view.
  const carolWatch = await carol.request('presence.watch', { users: ['alice'] });
  t.ok(carolWatch.ok);
  t.same(carolWatch.data.users, [{ contact: 'alice@example.test', site: 'example.test', username: 'alice', presence: { state: 'offline' } }]);
  t.ok((await erin.request('presence.watch', { users: ['alice@example.test'] })).ok);
  t.ok((await dave.request('presence.watch', { users: ['sip:alice@example.test'] })).ok);

  // alice signs in on the web: Available, device web.
  const alice = await LiveSession.open(host, 'alice');
  t.teardown(() => alice.close());
  const seenByBob = await bob.next('presence.changed', (d) => d.contact === 'alice@example.test' && d.presence.state === 'available');
  t.same(seenByBob.presence.devices, [{ mobile: false, im: true }], 'company sees the web device');
  t.equal(stateIn(await sipBob.nextNotify((m) => stateIn(m) === 'available')), 'available', 'SIP watchers see the web device as well');
  await alice.next('presence.changed', (d) => d.contact === 'alice@example.test' && d.presence.state === 'available');

  // alice sets In a meeting with note and location over the live channel.
  const set = await alice.request('presence.set', { state: 'in-a-meeting', note: 'planning', location: 'Room 4' });
  t.ok(set.ok, JSON.stringify(set));
  t.equal(set.data.presence.state, 'in-a-meeting');
  t.equal(set.data.manual.note, 'planning');
  const company = await bob.next('presence.changed', (d) => d.presence.state === 'in-a-meeting');
  t.equal(company.presence.note, 'planning', 'company sees the note');
  t.notOk('location' in company.presence, 'company does not see the location');
  const team = await erin.next('presence.changed', (d) => d.presence.state === 'in-a-meeting');
  t.equal(team.presence.location, 'Room 4', 'team sees the location');
  const pub = await carol.next('presence.changed', (d) => d.presence.state === 'busy');
  t.same(pub.presence, { state: 'busy' }, 'public sees Busy only');
  const blocked = await dave.next('presence.changed', (d) => d.contact === 'alice@example.test');
  t.same(blocked.presence, { state: 'offline' }, 'blocked sees Offline');
  t.notOk(dave.events.some((e) => e.type === 'presence.changed' && e.data.contact === 'alice@example.test' && e.data.presence.state !== 'offline'), 'blocked never sees another state');

  // bob tagged alice: an alert for each state change he may see.
  const alert = await bob.next('presence.alert', (d) => d.presence.state === 'in-a-meeting');
  t.equal(alert.contact, 'alice@example.test');
  t.type(alert.seq, 'number');

  // DND: team gets urgent interruptions only.
  t.ok((await alice.request('presence.set', { state: 'do-not-disturb' })).ok);
  t.equal((await erin.next('presence.changed', (d) => d.presence.state === 'do-not-disturb')).presence.urgentInterruptionsOnly, true);
  t.notOk('urgentInterruptionsOnly' in (await bob.next('presence.changed', (d) => d.presence.state === 'do-not-disturb')).presence);

  // Clearing the manual state: back to the web device's Available; idle reports move it on.
  const cleared = await alice.request('presence.clear');
  t.equal(cleared.data.presence.state, 'available');
  const idle = await alice.request('presence.idle', { idleSeconds: 6 * 60 });
  t.same([idle.ok, idle.data.automatic], [true, 'inactive']);
  await bob.next('presence.changed', (d) => d.presence.state === 'inactive');
  await carol.next('presence.changed', (d) => d.presence.state === 'away', 0);

  // Bad input: a coded refusal, nothing changes.
  const count = bob.events.length;
  const badState = await alice.request('presence.set', { state: 'sleeping' });
  t.same([badState.ok, badState.error?.code], [false, 'PRESENCE_ERR_UNKNOWN_STATE']);
  const badIdle = await alice.request('presence.idle', { idleSeconds: -5 });
  t.same([badIdle.ok, badIdle.error?.code], [false, 'PRESENCE_ERR_BAD_INPUT']);
  t.same((await alice.request('presence.set', { state: 'busy', colour: 'red' })).error?.code, 'PRESENCE_ERR_BAD_INPUT');
  t.same((await alice.request('presence.set', { state: 'busy', custom: 'nope' })).error?.code, 'PRESENCE_ERR_UNKNOWN_STATE');
  t.same((await carol.request('presence.watch', { users: [] })).error?.code, 'PRESENCE_ERR_BAD_INPUT');
  t.same((await carol.request('presence.watch', { users: ['+1 555 0100'] })).error?.code, 'PRESENCE_ERR_BAD_INPUT', 'phone numbers have no presence');
  t.same((await carol.request('presence.watch', 'alice')).error?.code, 'PRESENCE_ERR_BAD_INPUT');
  alice.raw('{not json');
  await alice.next('error', (d) => d.code === 'CORE_ERR_LIVE_BAD_FRAME');
  t.equal((await bobHttp.call('GET', '/users/alice')).json.presence.state, 'inactive', 'still Inactive after bad input');
  t.equal(bob.events.length, count, 'no pushes for refused input');

  // presence.get: a one-off look, filtered.
  const got = await carol.request('presence.get', { users: ['alice', 'bob'] });
  t.same(got.data.users.map((u: any) => [u.username, u.presence.state]), [['alice', 'away'], ['bob', 'available']]);

  // unwatch: carol stops getting alice's changes.
  t.same((await carol.request('presence.unwatch', { users: ['alice'] })).data, { watching: [] });
  const carolCount = carol.events.length;

  // A second session of alice: closing one keeps the web device; closing the last takes it away.
  const alice2 = await LiveSession.open(host, 'alice');
  t.ok((await alice2.request('presence.idle', { idleSeconds: 0 })).ok);
  await bob.next('presence.changed', (d) => d.presence.state === 'available', count);
  await alice.close();
  t.equal((await bobHttp.call('GET', '/users/alice')).json.presence.state, 'available', 'one session left: still Available');
  const mark = bob.events.length;
  await alice2.close();
  await bob.next('presence.changed', (d) => d.presence.state === 'offline', mark);
  await erin.next('presence.changed', (d) => d.presence.state === 'offline');
  t.equal(stateIn(await sipBob.nextNotify((m) => stateIn(m) === 'offline', 10_000, 2)), 'offline', 'SIP watchers see the web device go');
  t.equal(carol.events.length, carolCount, 'unwatched: carol got nothing more');
});

t.test('live: a manual state set over the live channel is stored and outlives the session', async (t) => {
  const host = await presenceHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const alice = await LiveSession.open(host, 'alice');
  t.ok((await alice.request('presence.set', { state: 'be-right-back', note: 'coffee' })).ok);
  await alice.close();
  const bob = await userClient(host, 'bob');
  const view = (await bob.call('GET', '/users/alice')).json.presence;
  t.same([view.state, view.note], ['be-right-back', 'coffee'], 'what the user chose stays until cleared');
  const me = (await (await userClient(host, 'alice')).call('GET', '/me')).json;
  t.equal(me.manual.state, 'be-right-back');
});
