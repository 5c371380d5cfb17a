import t from 'tap';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { presenceHost, SITE, userClient } from './helpers.ts';

const GROUPS = [
  { id: 'support', name: 'Support', members: ['bob', 'sip:carol@example.test', '+1 555 0199', 'group:managers', 'ghost', 'group:nope'] },
  { id: 'managers', name: 'Managers', members: ['dave', 'bob', 'group:support'], directoryGroup: 'Leads' },
  { id: 'empty', name: 'Nobody yet' },
];

for (const storage of storageUrlsForTests()) {
  const kind = storage.startsWith('sqlite') ? 'SQLite' : 'MariaDB';
  t.test(`distribution groups on ${kind}: config, expansion with presence, into the contact list`, async (t) => {
    await withTestDatabase(storage, async (url) => {
      const host = await presenceHost(['alice', 'bob', 'carol', 'dave'], { distributionGroups: GROUPS }, url);
      t.teardown(() => host.close());
      const made = await host.adminFetch(`/api/admin/sites/${SITE}/users`, { method: 'POST', body: JSON.stringify({ username: 'erin', password: 'pw-erin-secret', displayName: 'Erin Lead', groups: ['leads'] }) });
      t.equal(made.status, 201);

      // Bad config is refused and changes nothing.
      const bad = await host.adminFetch(`/api/admin/sites/${SITE}/plugins/presence`, { method: 'PUT', body: JSON.stringify({ enabled: true, config: { distributionGroups: [{ id: 'Bad Id', name: 'x' }] } }) });
      t.equal(bad.status, 400, 'ids are checked by the schema');

      const alice = await userClient(host, 'alice');
      const bob = await userClient(host, 'bob');
      await bob.call('PUT', '/me', { state: 'busy', note: 'on call duty' });
      await bob.call('PUT', '/access/alice', { level: 'public' });

      t.same((await alice.call('GET', '/distribution-groups')).json.groups, [
        { id: 'support', name: 'Support' }, { id: 'managers', name: 'Managers' }, { id: 'empty', name: 'Nobody yet' },
      ]);
      const support = await alice.call('GET', '/distribution-groups/support');
      t.equal(support.status, 200);
      t.same(support.json.members.map((m: { address: string; kind: string; via: string }) => [m.address, m.kind, m.via]), [
        ['bob@example.test', 'user', 'support'],
        ['carol@example.test', 'user', 'support'],
        ['tel:+15550199', 'phone', 'support'],
        ['dave@example.test', 'user', 'managers'],
        ['erin@example.test', 'user', 'managers'],
      ], 'nested groups flattened once (the cycle ends), duplicates dropped, directory group members added');
      t.same(support.json.unresolved, ['ghost', 'group:nope']);
      const bobSeen = support.json.members[0];
      t.same(bobSeen.presence, { state: 'busy' }, 'presence as the caller may see it (bob gave alice Public)');
      t.equal(support.json.members[2].presence, null, 'numbers have no presence');
      t.equal(support.json.members[4].displayName, 'Erin Lead');
      t.same((await alice.call('GET', '/distribution-groups/empty')).json.members, []);
      const missing = await alice.call('GET', '/distribution-groups/nope');
      t.equal(missing.status, 404);
      t.equal(missing.json.code, 'PRESENCE_ERR_DISTRIBUTION_NOT_FOUND');
      t.equal((await alice.call('GET', '/distribution-groups/NOT%20AN%20ID')).status, 400);

      // Into the contact list, under a group; what is there already is skipped.
      const team = await alice.call('POST', '/groups', { name: 'Support team' });
      t.equal((await alice.call('POST', '/contacts', { address: 'carol' })).status, 201);
      t.equal((await alice.call('POST', '/distribution-groups/support/contacts', { groupId: 999 })).status, 404, 'unknown list group');
      t.equal((await alice.call('POST', '/distribution-groups/support/contacts', { groupId: 'x' })).json.code, 'PRESENCE_ERR_BAD_INPUT');
      t.equal((await alice.call('POST', '/distribution-groups/support/contacts', { group: 1 })).status, 400);
      t.equal((await alice.call('GET', '/contacts')).json.contacts.length, 1, 'nothing added');
      const added = await alice.call('POST', '/distribution-groups/support/contacts', { groupId: team.json.id });
      t.equal(added.status, 200);
      t.same(added.json.added.map((c: { address: string }) => c.address), ['bob@example.test', 'tel:+15550199', 'dave@example.test', 'erin@example.test']);
      t.same(added.json.skipped, ['carol@example.test']);
      const list = (await alice.call('GET', '/contacts')).json.contacts;
      t.same(list.map((c: { address: string; kind: string; groupId: number | null }) => [c.address, c.kind, c.groupId]), [
        ['carol@example.test', 'user', null],
        ['bob@example.test', 'user', team.json.id],
        ['tel:+15550199', 'phone', team.json.id],
        ['dave@example.test', 'user', team.json.id],
        ['erin@example.test', 'user', team.json.id],
      ]);
      t.equal(list.find((c: { kind: string }) => c.kind === 'phone').presence, null, 'phone-number contact: no presence');

      // Expanding for oneself leaves oneself out; a full list refuses the whole group.
      const dave = await userClient(host, 'dave');
      const daveAdds = await dave.call('POST', '/distribution-groups/managers/contacts', {});
      t.notOk(daveAdds.json.added.some((c: { address: string }) => c.address === 'dave@example.test'), 'not oneself');
      const r = await host.adminFetch(`/api/admin/sites/${SITE}/plugins/presence`, { method: 'PUT', body: JSON.stringify({ enabled: true, config: { distributionGroups: GROUPS, maxContacts: 2 } }) });
      t.equal(r.status, 200);
      const carol = await userClient(host, 'carol');
      const full = await carol.call('POST', '/distribution-groups/support/contacts');
      t.equal(full.status, 409);
      t.equal(full.json.code, 'PRESENCE_ERR_LIMIT');
      t.same((await carol.call('GET', '/contacts')).json.contacts, [], 'all or nothing');
    });
  });
}
