// Storage#insertRows (ctx.db.insertRows underneath): rows in one transaction,
// every row or none, ids in order, visible to the host's connection once
// answered; on a SQLite file on a connection of its own (the writer thread),
// on MariaDB and in-memory SQLite on the host's connection. Plus the host's
// SQLite transactions taking the write lock at BEGIN, which a second writer
// connection needs.
import t from 'tap';
import Database from 'better-sqlite3';
import { openStorage, storageUrlsForTests, withTestDatabase, parseStorageUrl, type Storage } from '../src/storage/index.ts';

const CREATE: Record<string, string> = {
  sqlite: 'CREATE TABLE rw_items (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(64) NOT NULL UNIQUE, n INTEGER)',
  mysql: 'CREATE TABLE rw_items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, n INT)',
};
const INSERT = 'INSERT INTO rw_items (name, n) VALUES (?, ?)';

async function names(storage: Storage): Promise<string[]> {
  const rows = (await storage.dataSource.query('SELECT name FROM rw_items ORDER BY id')) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

function settled(p: Promise<unknown>): () => boolean {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  return () => done;
}

for (const storageUrl of [...storageUrlsForTests(), 'sqlite::memory:']) {
  const label = storageUrl === 'sqlite::memory:' ? 'sqlite in memory' : storageUrl.split(':')[0]!;
  t.test(`insertRows: one transaction, ids in order (${label})`, async (t) => {
    const run = async (url: string): Promise<void> => {
      const storage = await openStorage(url);
      t.teardown(() => storage.close());
      await storage.dataSource.query(CREATE[storage.kind]!);

      const ids = await storage.insertRows(INSERT, [['a', 1], ['b', 2], ['c', null]]);
      t.equal(ids.length, 3, 'an id per row');
      t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids ascend in row order (${ids.join(', ')})`);
      const byId = (await storage.dataSource.query('SELECT id, name, n FROM rw_items ORDER BY id')) as Array<{ id: number; name: string; n: number | null }>;
      t.same(byId.map((r) => [Number(r.id), r.name, r.n === null ? null : Number(r.n)]), [[ids[0], 'a', 1], [ids[1], 'b', 2], [ids[2], 'c', null]],
        'the host\'s connection reads the rows under the ids answered');

      // 'a' again breaks UNIQUE on the second row: the first ('d') must not stay either.
      await t.rejects(storage.insertRows(INSERT, [['d', 4], ['a', 5]]), /UNIQUE|Duplicate/i, 'the database\'s error');
      t.same(await names(storage), ['a', 'b', 'c'], 'a failed batch writes nothing');
      t.same(await storage.insertRows(INSERT, []), [], 'no rows, no write');

      // Many batches at once are all answered, each with its own ids.
      const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.insertRows(INSERT, [[`x${i}a`, i], [`x${i}b`, i]])));
      t.equal(new Set(batches.flat()).size, 40, 'forty distinct ids for twenty concurrent batches');
      t.equal((await names(storage)).length, 43, 'every row of them is there');

      await storage.close();
      await t.rejects(storage.insertRows(INSERT, [['late', 0]]), { code: 'CORE_ERR_STORAGE_CLOSED' }, 'refused after close');
    };
    if (storageUrl === 'sqlite::memory:') await run(storageUrl);
    else await withTestDatabase(storageUrl, run);
  });
}

t.test('on a SQLite file the rows are written on another connection, so the host never waits for it', async (t) => {
  await withTestDatabase('sqlite', async (url) => {
    const storage = await openStorage(url);
    t.teardown(() => storage.close());
    await storage.dataSource.query(CREATE.sqlite!);
    await storage.insertRows(INSERT, [['first', 1]]);

    // The host's own connection holds the write lock: a write on that same connection would just run.
    const runner = storage.dataSource.createQueryRunner();
    await runner.startTransaction();
    await runner.query('INSERT INTO rw_items (name, n) VALUES (?, ?)', ['held', 0]);
    const pending = storage.insertRows(INSERT, [['queued', 2]]);
    const done = settled(pending);
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.notOk(done(), 'the batch waits for the host\'s transaction: another connection wrote it');
    t.equal((await runner.query('SELECT COUNT(*) AS n FROM rw_items'))[0].n, 2, 'and the host\'s event loop kept running meanwhile');
    await runner.commitTransaction();
    await runner.release();
    t.equal((await pending).length, 1, 'answered once the lock was free');
    t.same(await names(storage), ['first', 'held', 'queued'], 'both writes kept, in commit order');
  });
});

t.test('the host\'s SQLite transactions take the write lock when they begin', async (t) => {
  await withTestDatabase('sqlite', async (url) => {
    const storage = await openStorage(url);
    t.teardown(() => storage.close());
    await storage.dataSource.query(CREATE.sqlite!);
    const target = parseStorageUrl(url);
    if (target.kind !== 'sqlite') throw new Error('not sqlite');
    const other = new Database(target.database, { timeout: 0 });
    t.teardown(() => other.close());

    await storage.dataSource.transaction(async (m) => {
      await m.query('SELECT COUNT(*) FROM rw_items');
      // A deferred transaction would hold only a read snapshot here, let `other` commit, and then fail its own write (SQLITE_BUSY).
      t.throws(() => other.prepare(INSERT).run('other', 1), { code: 'SQLITE_BUSY' }, 'another writer is held off from BEGIN on');
      await m.query(INSERT, ['mine', 1]);
    });
    other.prepare(INSERT).run('other', 1);
    t.same(await names(storage), ['mine', 'other'], 'the host\'s read-then-write transaction committed; the other writer after it');
  });
});
