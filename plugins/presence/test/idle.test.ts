import t from 'tap';
import { presenceHost, userClient } from './helpers.ts';

t.test('automatic Inactive and Away from idle reports; manual beats automatic until cleared', async (t) => {
  const host = await presenceHost(['alice', 'bob'], { inactiveMinutes: 1, awayMinutes: 2 });
  t.teardown(() => host.close());
  const alice = await userClient(host, 'alice');
  const bob = await userClient(host, 'bob');
  const seen = async () => (await bob.call('GET', '/users/alice')).json.presence.state;

  t.equal((await alice.call('PUT', '/me/idle', { idleSeconds: -1 })).status, 400);
  const active = await alice.call('PUT', '/me/idle', { idleSeconds: 0 });
  t.equal(active.json.automatic, 'available');
  t.equal(active.json.presence.source, 'automatic');
  t.equal(await seen(), 'available');
  t.equal((await alice.call('PUT', '/me/idle', { idleSeconds: 60 })).json.automatic, 'inactive');
  t.equal(await seen(), 'inactive');
  t.equal((await alice.call('PUT', '/me/idle', { idleSeconds: 500 })).json.automatic, 'away');
  t.equal(await seen(), 'away');

  await alice.call('PUT', '/me', { state: 'busy' });
  t.equal(await seen(), 'busy', 'manual beats automatic');
  await alice.call('DELETE', '/me');
  t.equal(await seen(), 'away', 'automatic again once the manual state is cleared');

  // One second short of Inactive: the plugin moves on without another report.
  await alice.call('PUT', '/me/idle', { idleSeconds: 59 });
  let state = await seen();
  for (let i = 0; i < 150 && state !== 'inactive'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    state = await seen();
  }
  t.equal(state, 'inactive', 'became Inactive by itself');

  await alice.call('DELETE', '/me/idle');
  t.equal(await seen(), 'offline', 'signed out of the web client');
});
