import t from 'tap';
import { presenceHost, userClient } from './helpers.ts';

t.test('tagged contacts: an alert when their state changes, as the owner may see it', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  const alice = await userClient(host, 'alice');
  const bob = await userClient(host, 'bob');
  const carol = await userClient(host, 'carol');
  const bobContact = await alice.call('POST', '/contacts', { address: 'bob', tagged: true });
  t.equal(bobContact.status, 201);
  await alice.call('POST', '/contacts', { address: 'carol' });

  t.same((await alice.call('GET', '/alerts')).json.alerts, []);
  await bob.call('PUT', '/me', { state: 'busy', note: 'deploying' });
  await carol.call('PUT', '/me', { state: 'busy' });
  await bob.call('PUT', '/me', { state: 'busy', note: 'still deploying' });
  const alerts = (await alice.call('GET', '/alerts')).json.alerts;
  t.equal(alerts.length, 1, 'one alert: bob went busy; carol is not tagged; a note change is not a state change');
  t.equal(alerts[0].contact, 'bob@example.test');
  t.equal(alerts[0].presence.state, 'busy');
  t.equal(alerts[0].presence.note, 'deploying');

  await bob.call('PUT', '/access/alice', { level: 'public' });
  await bob.call('PUT', '/me', { state: 'in-a-call' });
  t.same((await alice.call('GET', `/alerts?after=${alerts[0].seq}`)).json.alerts, [], 'public sees busy still: no alert');
  await bob.call('DELETE', '/me');
  const next = (await alice.call('GET', `/alerts?after=${alerts[0].seq}`)).json.alerts;
  t.same(next.map((a: { presence: { state: string } }) => a.presence.state), ['offline']);

  await alice.call('PATCH', `/contacts/${bobContact.json.id}`, { tagged: false });
  await bob.call('PUT', '/me', { state: 'available' });
  t.equal((await alice.call('GET', '/alerts')).json.alerts.length, 2, 'untagged: no new alerts');
  t.equal((await bob.call('GET', '/alerts')).json.alerts.length, 0, 'alerts are per owner');
});
