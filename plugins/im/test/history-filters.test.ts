/**
 * History (search per user by participant, dates and keyword), the durable
 * im.message event an archiving plugin consumes, and the filter chain
 * (keywords, URLs, rate limit, a filter added by another plugin), on SQLite
 * and MariaDB.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, header, pluginDir, setConfig, SipUser, statusOf, webUser } from './helpers.ts';

const archiverDir = fileURLToPath(new URL('./fixtures/archiver', import.meta.url));

for (const storageUrl of storageUrlsForTests()) {
  const kind = storageUrl.split(':')[0];
  t.test(`history, archive events and filters on ${kind}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const host = await createTestHost({ plugins: [pluginDir, archiverDir], sites: [D], storage });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol', 'dave']) await addUser(host, u);
      const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => webUser(host, u)));

      const anonymous = await fetch(`${host.url}/api/plugins/im/sites/${D}/history`);
      t.equal(anonymous.status, 401, 'history needs a signed-in user');

      const sent = [
        await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'Lunch at noon?' } }),
        await alice('/messages', { method: 'POST', body: { to: 'carol', body: 'Quarterly report draft, 50% done' } }),
        await bob('/messages', { method: 'POST', body: { to: 'alice', body: 'lunch sounds good' } }),
      ];
      t.same(sent.map((s) => s.status), [200, 200, 200]);
      t.same(sent.map((s) => s.json.status), ['stored', 'stored', 'stored'], 'nobody is registered: stored for later');
      t.equal(sent[0]!.json.conversationId, sent[2]!.json.conversationId, 'both directions are one conversation');

      const bodies = (r: { json: { messages: Array<{ body: string }> } }) => r.json.messages.map((m) => m.body);
      t.same(bodies(await alice('/history')), ['Lunch at noon?', 'Quarterly report draft, 50% done', 'lunch sounds good'], 'all of alice');
      t.same(bodies(await bob('/history')), ['Lunch at noon?', 'lunch sounds good'], 'bob sees only his');
      t.same(bodies(await carol('/history?with=bob')), [], 'carol never talked to bob');
      t.same(bodies(await alice('/history?with=carol')), ['Quarterly report draft, 50% done'], 'by participant');
      t.same(bodies(await alice('/history?q=LUNCH')), ['Lunch at noon?', 'lunch sounds good'], 'keyword, any case');
      t.same(bodies(await alice('/history?q=lunch%20good')), ['lunch sounds good'], 'every word must occur');
      t.same(bodies(await alice('/history?q=50%25')), ['Quarterly report draft, 50% done'], '% is a literal');
      t.same(bodies(await alice('/history?q=5_')), [], '_ is a literal');
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      t.equal((await alice(`/history?from=${hourAgo}&to=${inAnHour}`)).json.messages.length, 3, 'inside the range');
      t.equal((await alice(`/history?from=${inAnHour}`)).json.messages.length, 0, 'after the range');
      t.equal((await alice(`/history?to=${hourAgo}`)).json.messages.length, 0, 'before the range');
      t.equal((await alice('/history?from=yesterday')).status, 400, 'dates are validated');
      t.same(bodies(await alice('/history?limit=1')), ['Lunch at noon?'], 'limit');
      const first = (await alice('/history')).json.messages[0];
      t.same(bodies(await alice(`/history?afterId=${first.id}&limit=1`)), ['Quarterly report draft, 50% done'], 'paging with afterId');
      t.match(first, { sender: 'alice', recipients: ['bob'], contentType: 'text/plain', via: 'http' });

      // Archiving plugin: every message arrives through the durable subscription.
      let archived: Array<{ body: string; sender: string }> = [];
      for (let i = 0; i < 100 && archived.length < 3; i++) {
        archived = ((await (await host.adminFetch(`/api/plugins/archiver/sites/${D}/entries`)).json()) as { entries: typeof archived }).entries;
        if (archived.length < 3) await new Promise((r) => setTimeout(r, 200));
      }
      t.same(archived.map((a) => a.body), ['Lunch at noon?', 'Quarterly report draft, 50% done', 'lunch sounds good'], 'archived, in order');

      // Filters.
      await setConfig(host, { keywords: { words: ['darn'], action: 'mask' }, urls: 'defang' });
      const masked = await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'Oh DARN, see http://evil.example/x or www.evil.example' } });
      t.equal(masked.status, 200);
      t.equal(masked.json.body, 'Oh ****, see hxxp://evil[.]example/x or www[.]evil[.]example', 'masked and defanged');
      t.equal((await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'darning socks' } })).json.body, 'darning socks', 'whole words only');

      const secret = await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'the top-secret plan' } });
      t.equal(secret.status, 403);
      t.match(secret.json, { code: 'IM_ERR_BLOCKED', message: /Archiver policy: no secrets/ }, 'a filter added by another plugin');

      await setConfig(host, { keywords: { words: ['darn'], action: 'block' }, urls: 'block' });
      const blocked = await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'darn' } });
      t.equal(blocked.status, 403);
      t.match(blocked.json, { code: 'IM_ERR_BLOCKED', message: /keyword filter/ });
      const link = await alice('/messages', { method: 'POST', body: { to: 'bob', body: 'look https://x.example' } });
      t.match(link.json, { code: 'IM_ERR_BLOCKED', message: /URL filter/ });

      const sip = await SipUser.open(host, 'alice');
      t.teardown(() => sip.close());
      const refused = await sip.send('bob', 'well darn it');
      t.equal(statusOf(refused), 403, 'a SIP sender is refused');
      t.match(header(refused, 'Warning'), /^399 example\.test ".*keyword filter.*"$/, 'and told why');

      await setConfig(host, { rateLimit: { messages: 3, windowSeconds: 3600 } });
      const burst = [];
      for (let i = 0; i < 4; i++) burst.push(await dave('/messages', { method: 'POST', body: { to: 'bob', body: `spam ${i}` } }));
      t.same(burst.map((b) => b.status), [200, 200, 200, 429], 'the fourth message in the window is refused');
      t.match(burst[3]!.json, { code: 'IM_ERR_RATE_LIMITED', message: /at most 3 messages in 3600 s/ });
      t.equal((await carol('/messages', { method: 'POST', body: { to: 'bob', body: 'hi' } })).status, 200, 'other senders are not limited');

      const history = bodies(await bob('/history?q=spam'));
      t.same(history, ['spam 0', 'spam 1', 'spam 2'], 'refused messages are not kept');
    });
  });
}
