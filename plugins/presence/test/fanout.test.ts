import t from 'tap';
import { header, pidf, presenceHost, stateIn, statusOf, Ua } from './helpers.ts';

t.test('one PUBLISH reaches every watcher (150 subscriptions), each with its own filtered view', async (t) => {
  const host = await presenceHost(['alice', 'bob'], { maxSubscriptionsPerUser: 1000 });
  t.teardown(() => host.close());
  const bob = await Ua.open('bob', host.sipPort);
  const alice = await Ua.open('alice', host.sipPort);
  t.teardown(() => Promise.all([bob.close(), alice.close()]));
  const N = 150;
  const ids = Array.from({ length: N }, (_, i) => `fan-${i}-${Date.now()}`);
  for (const callId of ids) {
    const r = await bob.send('SUBSCRIBE', 'alice', { callId, headers: ['Event: presence', 'Expires: 600'] });
    t.ok([200, 202].includes(statusOf(r)), `subscribed ${callId}`, { diagnostic: false });
  }
  for (const callId of ids) await bob.nextNotify((m) => m.includes(callId), 60_000);
  const before = bob.notifies.length;
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: application/pidf+xml'], body: pidf('alice', { activities: '<rpid:on-the-phone/>' }) })), 200);
  const deadline = Date.now() + 60_000;
  const got = new Set<string>();
  while (got.size < N && Date.now() < deadline) {
    for (const m of bob.notifies.slice(before)) {
      const id = header(m, '(?:call-id|i)');
      if (id && stateIn(m) === 'in-a-call') got.add(id);
    }
    if (got.size < N) await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(got.size, N, 'every subscription got the change');
  // Unknown user of our own site claiming to watch: treated as the public.
  const ghost = `ghost-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { from: 'ghost', callId: ghost, headers: ['Event: presence', 'Expires: 600'] }))));
  t.equal(stateIn(await bob.nextNotify((m) => m.includes(ghost))), 'busy', 'coarse state for an unknown local user');
});
