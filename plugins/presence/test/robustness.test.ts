import t from 'tap';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { challengeOf, digestAnswer } from '../../../test/helpers/digest-peer.ts';
import { header, pidf, presenceHost, SITE, statusOf, tagOf, Ua, userClient } from './helpers.ts';

const PIDF = 'Content-Type: application/pidf+xml';

t.test('behind digest authentication the publisher is the authenticated user', async (t) => {
  const host = await presenceHost(['alice', 'bob'], {}, undefined, undefined, { sip: { auth: { challengeMethods: ['PUBLISH', 'SUBSCRIBE'] } } });
  t.teardown(() => host.close());
  const ua = await Ua.open('alice', host.sipPort);
  t.teardown(() => ua.close());
  const publishAs = async (login: string, from: string) => {
    const first = await ua.send('PUBLISH', 'alice', { from, headers: ['Event: presence', PIDF], body: pidf('alice', { activities: '<rpid:busy/>' }) });
    if (statusOf(first) !== 407) return statusOf(first);
    const ch = challengeOf(first, 'Proxy-Authenticate');
    const auth = digestAnswer({ username: login, password: `pw-${login}-secret`, realm: ch.realm, nonce: ch.nonce, algorithm: ch.algorithm, method: 'PUBLISH', uri: `sip:alice@${SITE}` });
    const second = await ua.send('PUBLISH', 'alice', { from, headers: ['Event: presence', PIDF, `Proxy-Authorization: ${auth}`], body: pidf('alice', { activities: '<rpid:busy/>' }) });
    return statusOf(second);
  };
  t.equal(statusOf(await ua.send('PUBLISH', 'alice', { headers: ['Event: presence', PIDF], body: pidf('alice') })), 407, 'challenged');
  t.equal(await publishAs('bob', 'bob'), 403, 'bob, authenticated, may not publish for alice');
  const bobView = await userClient(host, 'bob');
  t.equal((await bobView.call('GET', '/users/alice')).json.presence.state, 'offline', 'nothing changed');
  t.equal(await publishAs('alice', 'alice'), 200, 'alice publishes for herself');
  t.equal((await bobView.call('GET', '/users/alice')).json.presence.state, 'busy');
});

t.test('disabling the plugin for a site ends its subscriptions with reason=deactivated', async (t) => {
  const host = await presenceHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => bob.close());
  const callId = `dis-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await bob.send('SUBSCRIBE', 'alice', { callId, headers: ['Event: presence', 'Expires: 600'] }))));
  await bob.nextNotify((m) => m.includes(callId));
  const off = await host.adminFetch(`/api/admin/sites/${SITE}/plugins/presence`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200);
  const final = await bob.nextNotify((m) => m.includes(callId) && /^terminated/.test(header(m, 'Subscription-State') ?? ''));
  t.match(header(final, 'Subscription-State'), /reason=deactivated/);
});

t.test('after a restart, refreshes of old subscriptions get 481 so clients subscribe anew', async (t) => {
  const [sqlite] = storageUrlsForTests();
  await withTestDatabase(sqlite!, async (url) => {
    const password = 'presence-restart-pw-1';
    let host = await presenceHost(['alice', 'bob'], {}, url, password);
    const bob = await Ua.open('bob', host.sipPort);
    let ok: string;
    const callId = `rs-${Date.now()}`;
    try {
      ok = await bob.send('SUBSCRIBE', 'alice', { callId, fromTag: 'rb', headers: ['Event: presence', 'Expires: 600'] });
      t.ok([200, 202].includes(statusOf(ok)));
      await bob.nextNotify((m) => m.includes(callId));
    } finally {
      await host.close();
      await bob.close();
    }
    host = await presenceHost([], {}, url, password);
    const again = await Ua.open('bob', host.sipPort);
    try {
      const refresh = await again.send('SUBSCRIBE', 'alice', { callId, fromTag: 'rb', toTag: tagOf(header(ok, '(?:to|t)')), cseq: 2, headers: ['Event: presence', 'Expires: 600'] });
      t.equal(statusOf(refresh), 481, 'unknown dialog');
      const fresh = await again.send('SUBSCRIBE', 'alice', { callId: `${callId}-new`, headers: ['Event: presence', 'Expires: 600'] });
      t.ok([200, 202].includes(statusOf(fresh)), 'a new subscription works');
    } finally {
      await again.close();
      await host.close();
    }
  });
});
