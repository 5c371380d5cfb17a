import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { pluginDir, presenceHost, SITE, userClient } from './helpers.ts';

const probeDir = fileURLToPath(new URL('./fixtures/interrupt-probe', import.meta.url));

for (const storage of storageUrlsForTests()) {
  const kind = storage.startsWith('sqlite') ? 'SQLite' : 'MariaDB';
  t.test(`HTTP API on ${kind}: my state, filtered presence, access levels, contact lists, restart`, async (t) => {
    await withTestDatabase(storage, async (url) => {
      const password = 'presence-admin-pw-1';
      let host = await presenceHost(['alice', 'bob', 'carol', 'dave'], {}, url, password);
      try {
        const alice = await userClient(host, 'alice');
        const bob = await userClient(host, 'bob');

        const anon = await fetch(`${host.url}/api/plugins/presence/sites/${SITE}/me`);
        t.equal(anon.status, 401, 'anonymous callers are refused');
        const asAdmin = await host.adminFetch(`/api/plugins/presence/sites/${SITE}/me`);
        t.equal(asAdmin.status, 401, 'a host admin is not a user of the site');

        t.same((await alice.call('GET', '/me')).json.presence, { state: 'offline', source: 'none', devices: [] });
        t.equal((await alice.call('PUT', '/me', { state: 'napping' })).status, 400, 'unknown state');
        t.equal((await alice.call('PUT', '/me', { state: 'busy', note: 'n'.repeat(1025) })).status, 400, 'note too long');
        const set = await alice.call('PUT', '/me', { state: 'in-a-meeting', note: 'quarterly review', location: 'Office' });
        t.equal(set.status, 200);
        t.equal(set.json.presence.state, 'in-a-meeting');

        const seenByBob = await bob.call('GET', '/users/alice');
        t.equal(seenByBob.status, 200);
        t.same(seenByBob.json.presence, { state: 'in-a-meeting', note: 'quarterly review', devices: [{ mobile: false, im: true }] }, 'company (site default): no location');
        t.equal((await bob.call('GET', '/users/nobody')).status, 404);

        // Groups and contacts.
        const work = await alice.call('POST', '/groups', { name: 'Work' });
        t.equal(work.status, 201);
        t.equal((await alice.call('POST', '/groups', { name: 'Work' })).status, 409, 'group names are unique per list');
        const friends = await alice.call('POST', '/groups', { name: 'Friends' });
        const addBob = await alice.call('POST', '/contacts', { address: 'bob', groupId: work.json.id, level: 'team' });
        t.equal(addBob.status, 201);
        t.equal(addBob.json.address, `bob@${SITE}`);
        t.equal(addBob.json.displayName, 'BOB', 'display name from the directory');
        t.equal((await alice.call('POST', '/contacts', { address: 'sip:bob@example.test' })).status, 409, 'same contact twice');
        t.equal((await alice.call('POST', '/contacts', { address: 'nobody' })).status, 404, 'unknown local user');
        t.equal((await alice.call('POST', '/contacts', { address: 'bob', groupId: 99999 })).status, 409);
        const phone = await alice.call('POST', '/contacts', { address: '+1 555-0100', displayName: 'Reception', groupId: work.json.id });
        t.equal(phone.status, 201);
        t.equal(phone.json.address, 'tel:+15550100');
        t.equal(phone.json.kind, 'phone');
        const carol = await alice.call('POST', '/contacts', { address: 'carol', tagged: true, groupId: friends.json.id, level: 'blocked' });
        t.equal(carol.status, 201);
        t.equal((await alice.call('PATCH', `/contacts/${phone.json.id}`, { position: 0, groupId: null })).status, 200);
        t.equal((await alice.call('PATCH', '/contacts/99999', { position: 1 })).status, 404);

        // Bob is Team now: he sees the location; carol is blocked: Offline only.
        t.same((await bob.call('GET', '/users/alice')).json.presence,
          { state: 'in-a-meeting', note: 'quarterly review', location: 'Office', devices: [{ mobile: false, im: true }] });
        const carolClient = await userClient(host, 'carol');
        const blocked = await carolClient.call('GET', '/users/alice');
        t.same(blocked.json.presence, { state: 'offline' });
        t.equal(blocked.json.email, undefined);

        // Bob's state shows in alice's list at the level bob gives alice (default: company).
        await bob.call('PUT', '/me', { state: 'be-right-back', note: 'coffee', location: 'Kitchen' });
        const list = await alice.call('GET', '/contacts');
        t.same(list.json.groups.map((g: { name: string }) => g.name), ['Work', 'Friends']);
        const byAddress = Object.fromEntries(list.json.contacts.map((c: { address: string }) => [c.address, c]));
        t.same(byAddress[`bob@${SITE}`].presence, { state: 'be-right-back', note: 'coffee', devices: [{ mobile: false, im: true }] }, 'bob gives alice the default level (company): no location');
        t.equal(byAddress[`bob@${SITE}`].level, 'team');
        t.equal(byAddress[`carol@${SITE}`].level, 'blocked');
        t.equal(byAddress[`carol@${SITE}`].tagged, true);
        t.equal(byAddress['tel:+15550100'].presence, null);
        t.equal(byAddress['tel:+15550100'].groupId, null);

        const access = await alice.call('GET', '/access');
        t.same(access.json, { defaultLevel: 'company', grants: [{ watcher: `bob@${SITE}`, level: 'team' }, { watcher: `carol@${SITE}`, level: 'blocked' }] });
        t.equal((await alice.call('PUT', '/access/dave', { level: 'root' })).status, 400);
        t.equal((await alice.call('PUT', '/access/dave', { level: 'public' })).status, 200);
        t.same((await (await userClient(host, 'dave')).call('GET', '/users/alice')).json.presence, { state: 'busy' }, 'public sees coarse state only');

        t.equal((await alice.call('DELETE', `/groups/${work.json.id}`)).status, 204);
        t.equal((await alice.call('DELETE', `/groups/${work.json.id}`)).status, 404);
        t.equal((await alice.call('DELETE', `/contacts/${carol.json.id}`)).status, 204);
      } finally {
        await host.close();
      }

      // Restart on the same database: lists, groups, levels and the manual state are still there.
      host = await presenceHost([], {}, url, password);
      try {
        const alice = await userClient(host, 'alice');
        const list = await alice.call('GET', '/contacts');
        t.same(list.json.groups.map((g: { name: string }) => g.name), ['Friends']);
        t.same(list.json.contacts.map((c: { address: string; groupId: number | null }) => [c.address, c.groupId]).sort(),
          [[`bob@${SITE}`, null], ['tel:+15550100', null]], 'contacts kept, ungrouped after their group was removed');
        t.equal((await alice.call('GET', '/access')).json.grants.length, 3);
        const me = await alice.call('GET', '/me');
        t.same(me.json.manual, { state: 'in-a-meeting', note: 'quarterly review', location: 'Office' });
        t.equal(me.json.presence.state, 'in-a-meeting');
        t.same((await (await userClient(host, 'carol')).call('GET', '/users/alice')).json.presence, { state: 'offline' }, 'still blocked');
        t.equal((await alice.call('DELETE', '/me')).json.presence.state, 'offline', 'cleared');
      } finally {
        await host.close();
      }
    });
  });
}

t.test('presence.policy: may A interrupt B (DND lets only Team through)', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir, probeDir], sites: [SITE] });
  t.teardown(() => host.close());
  for (const username of ['alice', 'bob', 'carol']) {
    await host.adminFetch(`/api/admin/sites/${SITE}/users`, { method: 'POST', body: JSON.stringify({ username, password: `pw-${username}-secret`, displayName: username }) });
  }
  const alice = await userClient(host, 'alice');
  const may = async (from: string, to: string) =>
    (await (await fetch(`${host.url}/api/plugins/interrupt-probe/sites/${SITE}/may?from=${encodeURIComponent(from)}&to=${to}`)).json()) as { may: boolean; seen: { state: string } };
  t.equal((await may('bob', 'alice')).may, true, 'offline: not in DND');
  await alice.call('PUT', '/access/bob', { level: 'team' });
  await alice.call('PUT', '/access/carol', { level: 'blocked' });
  t.equal((await may('carol', 'alice')).may, false, 'blocked never interrupts');
  await alice.call('PUT', '/me', { state: 'do-not-disturb' });
  t.equal((await may('bob', 'alice')).may, true, 'team may interrupt DND');
  t.equal((await may('sip:bob@example.test', 'alice')).may, true, 'a SIP URI works too');
  t.equal((await may('dave@elsewhere.test', 'alice')).may, false, 'outsiders may not');
  const company = await may('carol', 'alice');
  t.equal(company.may, false);
  t.equal(company.seen.state, 'offline');
  await alice.call('PUT', '/me', { state: 'busy' });
  t.equal((await may('dave@elsewhere.test', 'alice')).may, true, 'busy is not DND');
});

t.test('UI fragments render into their slots', async (t) => {
  const host = await presenceHost(['alice']);
  t.teardown(() => host.close());
  for (const slot of ['presence.status-picker', 'presence.contact-list', 'presence.contact-card']) {
    const r = await fetch(`${host.url}/api/sites/${SITE}/ui/slots/${slot}`);
    t.equal(r.status, 200);
    const html = await r.text();
    t.match(html, 'data-plugin="presence"', slot);
    t.match(html, `/api/plugins/presence/sites/${SITE}/`, `${slot} points at this site's API`);
    t.notMatch(html, 'data-error', `${slot} rendered`);
  }
});

t.test('automatic states from presence.activity events; presence.changed for other plugins', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir, probeDir], sites: [SITE] });
  t.teardown(() => host.close());
  for (const username of ['alice', 'bob']) {
    await host.adminFetch(`/api/admin/sites/${SITE}/users`, { method: 'POST', body: JSON.stringify({ username, password: `pw-${username}-secret`, displayName: username }) });
  }
  const alice = await userClient(host, 'alice');
  const bob = await userClient(host, 'bob');
  const activity = (body: unknown) => fetch(`${host.url}/api/plugins/interrupt-probe/sites/${SITE}/activity`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const seen = async () => (await bob.call('GET', '/users/alice')).json.presence.state;
  const waitFor = async (state: string) => {
    let now = await seen();
    for (let i = 0; i < 300 && now !== state; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await seen();
    }
    return now;
  };

  await alice.call('PUT', '/me/idle', { idleSeconds: 0 });
  await activity({ site: SITE, username: 'alice', activity: 'in-a-call', active: true });
  t.equal(await waitFor('available'), 'available', 'most available automatic device wins (web is active)');
  await alice.call('DELETE', '/me/idle');
  t.equal(await waitFor('in-a-call'), 'in-a-call', 'the call shows once the web client is gone');
  await activity({ site: SITE, username: 'alice', activity: 'napping', active: true });
  await alice.call('PUT', '/me', { state: 'do-not-disturb' });
  t.equal(await waitFor('do-not-disturb'), 'do-not-disturb', 'manual beats automatic; a malformed event changed nothing');
  await alice.call('DELETE', '/me');
  t.equal(await waitFor('in-a-call'), 'in-a-call');
  await activity({ site: SITE, username: 'alice', activity: 'in-a-call', active: false });
  t.equal(await waitFor('offline'), 'offline', 'call ended');

  // Live events are delivered asynchronously: wait (bounded) for the last one.
  let changes: { changes: Array<{ username: string; state: string }> } = { changes: [] };
  let states: string[] = [];
  for (let i = 0; i < 300 && states.at(-1) !== 'offline'; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    changes = (await (await fetch(`${host.url}/api/plugins/interrupt-probe/sites/${SITE}/changes`)).json()) as typeof changes;
    states = changes.changes.filter((c) => c.username === 'alice').map((c) => c.state);
  }
  t.ok(states.includes('in-a-call') && states.includes('do-not-disturb') && states.at(-1) === 'offline', `presence.changed seen: ${states.join(', ')}`);
  t.same(Object.keys(changes.changes[0]!).sort(), ['site', 'state', 'username'], 'only the state leaves the plugin');
});
