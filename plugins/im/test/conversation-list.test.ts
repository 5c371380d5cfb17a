/**
 * A user's conversation list (`GET /conversations`): groups with and without
 * messages, one-to-one exchanges from history, newest activity first with the
 * latest message; and reading one conversation back from its newest message
 * (`GET /history?conversationId=…&newest=true&beforeId=…`). SQLite and MariaDB.
 */
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, pluginDir, setConfig, webUser } from './helpers.ts';

interface Summary { id: string; kind: string; subject: string; participants: string[]; lastMessage?: { body: string; sender: string }; updatedAt: string }

for (const storageUrl of storageUrlsForTests()) {
  const kind = storageUrl.split(':')[0]!;
  t.test(`conversation list and newest-first reading on ${kind}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const host = await createTestHost({ plugins: [pluginDir], sites: [D, 'other.test'], storage });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol', 'dave']) await addUser(host, u);
      await setConfig(host, { rateLimit: { messages: 1000, windowSeconds: 10 } });
      const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => webUser(host, u)));
      const say = async (from: typeof alice, to: string, body: string) => {
        const r = await from('/messages', { method: 'POST', body: { to, body } });
        if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.json)}`);
      };

      t.same((await alice('/conversations')).json, { conversations: [] }, 'nothing yet');
      const quiet = (await alice('/conversations', { method: 'POST', body: { participants: ['bob'], subject: 'Quiet room' } })).json as { id: string };
      await say(alice, 'bob', 'first to bob');
      await say(carol, 'alice', 'hello from carol');
      const busy = (await carol('/conversations', { method: 'POST', body: { participants: ['alice', 'dave'], subject: 'Busy room' } })).json as { id: string };
      t.equal((await dave(`/conversations/${busy.id}/messages`, { method: 'POST', body: { body: 'dave in the busy room' } })).status, 201);
      await say(bob, 'alice', 'bob answers');

      const list = (await alice('/conversations')).json.conversations as Summary[];
      t.same(list.map((c) => `${c.kind} ${c.id === quiet.id || c.id === busy.id ? c.subject : c.id}: ${c.lastMessage ? `${c.lastMessage.sender} ${c.lastMessage.body}` : '-'}`), [
        'pair pair:alice:bob: bob bob answers',
        'group Busy room: dave dave in the busy room',
        'pair pair:alice:carol: carol hello from carol',
        'group Quiet room: -',
      ], 'newest activity first; the group without messages is listed too');
      t.same(list.find((c) => c.id === busy.id)?.participants, ['carol', 'alice', 'dave'], 'group participants');
      t.same(list.find((c) => c.id === 'pair:alice:carol')?.participants, ['alice', 'carol'], 'pair participants');
      t.ok(list.every((c, i) => i === 0 || list[i - 1]!.updatedAt >= c.updatedAt), 'ordered by updatedAt');

      const bobs = ((await bob('/conversations')).json.conversations as Summary[]).map((c) => c.subject || c.id);
      t.same(bobs, ['pair:alice:bob', 'Quiet room'], "bob sees only his own conversations, not carol's or the busy room");
      t.same((await dave('/conversations?limit=1')).json.conversations.map((c: Summary) => c.subject), ['Busy room'], 'limit');
      t.equal((await dave('/conversations?limit=lots')).status, 400, 'a bad limit is refused');

      // Read one conversation from its newest message back.
      for (let i = 1; i <= 7; i++) await say(alice, 'bob', `note ${i}`);
      const newest = (await bob('/history?conversationId=pair:alice:bob&newest=true&limit=3')).json.messages as Array<{ id: number; body: string }>;
      t.same(newest.map((m) => m.body), ['note 5', 'note 6', 'note 7'], 'the newest three, oldest first');
      const before = (await bob(`/history?conversationId=pair:alice:bob&newest=true&limit=3&beforeId=${newest[0]!.id}`)).json.messages as Array<{ body: string }>;
      t.same(before.map((m) => m.body), ['note 2', 'note 3', 'note 4'], 'and the three before them');
      t.same((await carol('/history?conversationId=pair:alice:bob')).json.messages, [], "others' conversations stay private");
      t.equal((await bob('/history?conversationId=not%20an%20id')).status, 400, 'a malformed conversation id is refused');
    });
  });
}
