/**
 * Full-text history search (FTS5 on SQLite, a FULLTEXT index on MariaDB)
 * by keyword, participant and date range, on both databases: the index
 * exists, words match as word prefixes in any case and accent, words with
 * punctuation must also occur literally, and short words and stopwords
 * (which InnoDB does not index) are still found.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, pluginDir, setConfig, webUser } from './helpers.ts';

// better-sqlite3 ships no types; a read-only look at the schema is all the test needs.
interface ReadOnlyDb { prepare(sql: string): { all(): unknown[] }; close(): void }
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { readonly: boolean }) => ReadOnlyDb;

async function indexOf(storage: string): Promise<string[]> {
  if (storage.startsWith('sqlite:')) {
    const db = new Database(storage.slice('sqlite:'.length), { readonly: true });
    try {
      const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE name = 'im_messages_fts' OR (type = 'trigger' AND tbl_name = 'im_messages') ORDER BY name").all() as Array<{ name: string; sql: string }>;
      return rows.map((r) => `${r.name}: ${/USING fts5/i.test(r.sql) ? 'fts5' : 'trigger'}`);
    } finally {
      db.close();
    }
  }
  const conn = await mysql.createConnection(storage);
  try {
    const [rows] = await conn.query("SELECT INDEX_NAME AS name, INDEX_TYPE AS type, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'im_messages' AND INDEX_TYPE = 'FULLTEXT'");
    return (rows as Array<{ name: string; type: string; col: string }>).map((r) => `${r.name}: ${r.type} (${r.col})`);
  } finally {
    await conn.end();
  }
}

for (const storageUrl of storageUrlsForTests()) {
  const kind = storageUrl.split(':')[0]!;
  t.test(`full-text history search on ${kind}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol']) await addUser(host, u);
      await setConfig(host, { rateLimit: { messages: 1000, windowSeconds: 10 } });
      const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => webUser(host, u)));

      t.same(await indexOf(storage), kind === 'sqlite'
        ? ['im_messages_fts: fts5', 'im_messages_fts_ad: trigger', 'im_messages_fts_ai: trigger', 'im_messages_fts_au: trigger']
        : ['ix_im_messages_body_ft: FULLTEXT (body)'], 'the full-text index is there');

      const say = async (from: typeof alice, to: string, body: string, contentType = 'text/plain') => {
        const r = await from('/messages', { method: 'POST', body: { to, body, contentType } });
        if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.json)}`);
      };
      await say(alice, 'bob', 'Lunch at noon?');
      await say(bob, 'alice', 'Lunches on Friday are better');
      await say(alice, 'carol', 'Vacances d\'été à Nice');
      await say(carol, 'alice', 'hi there, the quarterly report is ready');
      await say(alice, 'bob', 'I like c++ a lot');
      await say(bob, 'alice', 'c is fine too');
      await say(alice, 'carol', 'Budget 50% spent, launch planned');
      await say(carol, 'bob', 'Lunch with carol and bob only');
      await say(bob, 'carol', '<p>A <b>bold</b> move</p>', 'text/html');

      const find = async (user: typeof alice, query: string) => {
        const r = await user(`/history?${query}`);
        t.equal(r.status, 200, `${query}: ${JSON.stringify(r.json)}`);
        return (r.json.messages as Array<{ body: string }>).map((m) => m.body);
      };
      t.same(await find(alice, 'q=lunch'), ['Lunch at noon?', 'Lunches on Friday are better'], 'word prefix, any case; only alice\'s own messages');
      t.same(await find(alice, 'q=LUNC'), ['Lunch at noon?', 'Lunches on Friday are better'], 'a prefix');
      t.same(await find(alice, 'q=unch'), [], 'not the middle of a word: the index answers, not a substring scan');
      t.same(await find(alice, 'q=lunch%20friday'), ['Lunches on Friday are better'], 'every word must occur');
      t.same(await find(alice, `q=${encodeURIComponent('ÉTÉ')}`), ['Vacances d\'été à Nice'], 'Unicode case folding');
      t.same(await find(alice, 'q=hi'), ['hi there, the quarterly report is ready'], 'a two-letter word');
      t.same(await find(alice, 'q=the%20report'), ['hi there, the quarterly report is ready'], 'a stopword with another word');
      t.same(await find(alice, `q=${encodeURIComponent('c++')}`), ['I like c++ a lot'], 'punctuation must occur literally');
      t.same(await find(alice, `q=${encodeURIComponent('50%')}`), ['Budget 50% spent, launch planned'], '% is literal');
      t.same(await find(alice, 'q=5_'), [], '_ is literal');
      t.same(await find(bob, 'q=bold'), ['<p>A <b>bold</b> move</p>'], 'rich text');
      t.same(await find(carol, 'q=lunch'), ['Lunch with carol and bob only'], 'carol\'s own only');
      t.same(await find(bob, 'q=lunch&with=carol'), ['Lunch with carol and bob only'], 'keyword and participant');
      t.same(await find(bob, 'q=lunch&with=alice'), ['Lunch at noon?', 'Lunches on Friday are better']);
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      t.same(await find(alice, `q=lunch&from=${hourAgo}&to=${inAnHour}`), ['Lunch at noon?', 'Lunches on Friday are better'], 'keyword and date range');
      t.same(await find(alice, `q=lunch&from=${inAnHour}`), [], 'outside the range');
      t.same(await find(alice, 'q=lunch&limit=1'), ['Lunch at noon?'], 'limit');
      t.same(await find(alice, `q=${encodeURIComponent('"lunch" OR *')}`), [], 'query syntax of the index is not passed through');
      t.equal((await alice(`/history?q=${'x'.repeat(201)}`)).status, 400, 'overlong query refused');
    });
  });
}
