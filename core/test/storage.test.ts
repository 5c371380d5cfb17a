import t from 'tap';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '../src/errors.ts';
import {
  loadPluginMigrations,
  openStorage,
  pluginTablePrefix,
  storageUrlsForTests,
  withTestDatabase,
  type MigrationFailureDetails,
  type Storage,
} from '../src/storage/index.ts';
import { listTables } from '../src/storage/plugin-tables.ts';

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/migrations/${name}`, import.meta.url));
const CORE = ['core_migrations', 'plugin_installations', 'plugin_migrations', 'site_plugins', 'sites'];

async function tables(storage: Storage): Promise<string[]> {
  const q = storage.dataSource.createQueryRunner();
  try {
    return await listTables(q, storage.kind);
  } finally {
    await q.release();
  }
}

async function recorded(storage: Storage, pluginId: string): Promise<Array<{ name: string; version: string }>> {
  const rows = await storage.pluginMigrations.find({ where: { pluginId }, order: { name: 'ASC' } });
  return rows.map((r) => ({ name: r.name, version: r.version }));
}

async function rejection(promise: Promise<unknown>): Promise<CoreError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CoreError) return err;
    throw err;
  }
  throw new Error('expected a CoreError');
}

/** Each case gets a fresh database of the given kind and an open Storage on it. */
function withStorage(kindUrl: string, fn: (storage: Storage, url: string) => Promise<void>): () => Promise<void> {
  return () =>
    withTestDatabase(kindUrl, async (url) => {
      const storage = await openStorage(url);
      try {
        await fn(storage, url);
      } finally {
        await storage.close();
      }
    });
}

for (const kindUrl of storageUrlsForTests()) {
  const kind = kindUrl.startsWith('sqlite') ? 'sqlite' : 'mysql';

  t.test(`${kind}: core tables are created and usable`, async (t) => {
    await withStorage(kindUrl, async (storage) => {
      t.equal(storage.kind, kind);
      t.same((await tables(storage)).filter((n) => CORE.includes(n)), CORE);

      const site = await storage.sites.save({ domain: 'example.com', name: 'Example' });
      t.match(site.id, /^[0-9a-f-]{36}$/, 'uuid id');
      t.ok((await storage.sites.findOneByOrFail({ id: site.id })).createdAt instanceof Date);
      await t.rejects(storage.sites.insert({ domain: 'example.com' }), 'domain is unique');

      await storage.pluginInstallations.save({ pluginId: 'im', version: '1.0.0', state: 'failed', error: 'setup threw: boom' });
      t.match(await storage.pluginInstallations.findOneByOrFail({ pluginId: 'im' }), { version: '1.0.0', state: 'failed', error: 'setup threw: boom' });

      await storage.sitePlugins.save({ siteId: site.id, pluginId: 'im', enabled: true, config: { maxLength: 10, rooms: ['a'] }, updatedBy: 'admin' });
      const state = await storage.sitePlugins.findOneByOrFail({ siteId: site.id, pluginId: 'im' });
      t.equal(state.enabled, true);
      t.same(state.config, { maxLength: 10, rooms: ['a'] }, 'config round-trips as JSON');
      t.equal(state.updatedBy, 'admin');
      await storage.sitePlugins.save({ siteId: site.id, pluginId: 'im', enabled: false });
      t.equal(await storage.sitePlugins.countBy({ pluginId: 'im' }), 1, 'site + plugin is one row');
      t.equal((await storage.sitePlugins.findOneByOrFail({ siteId: site.id, pluginId: 'im' })).enabled, false);

      await storage.sites.delete({ id: site.id });
      t.equal(await storage.sitePlugins.countBy({ pluginId: 'im' }), 0, 'deleting a site removes its plugin state');
    })();
  });

  t.test(`${kind}: plugin migrations run once, are recorded, and upgrades run only new ones`, async (t) => {
    await withStorage(kindUrl, async (storage, url) => {
      const v1 = await loadPluginMigrations(fixtures('v1'));
      t.same(await storage.runPluginMigrations('notes', '1.0.0', v1), { ran: ['001-create-items'] });
      t.ok((await tables(storage)).includes('notes_items'));
      t.same(await recorded(storage, 'notes'), [{ name: '001-create-items', version: '1.0.0' }]);
      await storage.dataSource.query("INSERT INTO notes_items (body) VALUES ('kept')");

      t.same(await storage.runPluginMigrations('notes', '1.0.0', v1), { ran: [] }, 'rerun is a no-op');
      t.equal((await recorded(storage, 'notes')).length, 1);

      await storage.close();
      const reopened = await openStorage(url);
      try {
        t.same(await reopened.runPluginMigrations('notes', '1.0.0', v1), { ran: [] }, 'still a no-op after a restart');
        const v2 = await loadPluginMigrations(fixtures('v2'));
        t.same(v2.map((m) => m.name), ['001-create-items', '002-add-tags']);
        t.same(await reopened.runPluginMigrations('notes', '1.1.0', v2), { ran: ['002-add-tags'] }, 'upgrade runs only the new one');
        t.same(await recorded(reopened, 'notes'), [
          { name: '001-create-items', version: '1.0.0' },
          { name: '002-add-tags', version: '1.1.0' },
        ]);
        const rows = (await reopened.dataSource.query('SELECT body, pinned FROM notes_items')) as Array<{ body: string; pinned: unknown }>;
        t.same(rows.map((r) => [r.body, Number(r.pinned)]), [['kept', 0]], 'data survives the upgrade, new column has its default');
        t.ok((await tables(reopened)).includes('notes_tags'));
      } finally {
        await reopened.close();
      }
    })();
  });

  t.test(`${kind}: a failing second migration leaves nothing half-installed`, async (t) => {
    await withStorage(kindUrl, async (storage) => {
      const before = await tables(storage);
      const err = await rejection(storage.runPluginMigrations('notes', '1.0.0', await loadPluginMigrations(fixtures('failing'))));
      t.equal(err.code, 'CORE_ERR_MIGRATION_FAILED');
      t.match(err.message, /notes@1\.0\.0 migration 002-broken: .*notes_no_such_table/, 'names the migration and the database error');
      const details = err.details as MigrationFailureDetails;
      t.match(details, { pluginId: 'notes', migration: '002-broken', undone: ['001-create-items'], undoProblems: [] });
      t.same(await tables(storage), before, 'no table of the failed install remains');
      t.same(await recorded(storage, 'notes'), [], 'nothing recorded');

      t.same(await storage.runPluginMigrations('notes', '1.0.0', await loadPluginMigrations(fixtures('v1'))), { ran: ['001-create-items'] }, 'a fixed install runs from scratch');
    })();
  });

  t.test(`${kind}: a failing upgrade keeps the installed version intact`, async (t) => {
    await withStorage(kindUrl, async (storage) => {
      await storage.runPluginMigrations('notes', '1.0.0', await loadPluginMigrations(fixtures('v1')));
      await storage.dataSource.query("INSERT INTO notes_items (body) VALUES ('precious')");
      const before = await tables(storage);
      const err = await rejection(storage.runPluginMigrations('notes', '1.1.0', await loadPluginMigrations(fixtures('failing'))));
      t.match(err.details, { migration: '002-broken', undone: [] }, 'earlier installs are not undone');
      t.same(await tables(storage), before);
      t.same(await recorded(storage, 'notes'), [{ name: '001-create-items', version: '1.0.0' }]);
      t.same(await storage.dataSource.query('SELECT body FROM notes_items'), [{ body: 'precious' }]);
    })();
  });

  t.test(`${kind}: tables without the plugin prefix are refused and removed`, async (t) => {
    await withStorage(kindUrl, async (storage) => {
      t.equal(pluginTablePrefix('group-chat'), 'group_chat_');
      const err = await rejection(storage.runPluginMigrations('notes', '1.0.0', await loadPluginMigrations(fixtures('stray'))));
      t.equal(err.code, 'CORE_ERR_MIGRATION_FAILED');
      t.match(err.message, /CORE_ERR_TABLE_PREFIX.*items must start with notes_/);
      t.notOk((await tables(storage)).includes('items'));
      t.same(await recorded(storage, 'notes'), []);
    })();
  });

  t.test(`${kind}: purge drops a plugin's tables and records, never core tables`, async (t) => {
    await withStorage(kindUrl, async (storage) => {
      await storage.runPluginMigrations('notes', '1.1.0', await loadPluginMigrations(fixtures('v2')));
      await storage.runPluginMigrations('other', '1.0.0', [
        { name: '001', up: (q) => q.query('CREATE TABLE other_things (id integer primary key)'), down: (q) => q.query('DROP TABLE other_things') },
      ]);
      const site = await storage.sites.save({ domain: 'purge.example' });
      await storage.sitePlugins.save({ siteId: site.id, pluginId: 'notes', enabled: true, config: {} });

      const refused = await rejection(storage.purgePluginData('notes', ['sites']));
      t.equal(refused.code, 'CORE_ERR_TABLE_PREFIX');

      t.same(await storage.purgePluginData('notes'), { dropped: ['notes_items', 'notes_tags'] });
      const left = await tables(storage);
      t.notOk(left.includes('notes_items') || left.includes('notes_tags'));
      t.ok(left.includes('other_things'), "another plugin's tables stay");
      t.same(await recorded(storage, 'notes'), []);
      t.equal(await storage.sitePlugins.countBy({ pluginId: 'notes' }), 0);
      t.equal((await recorded(storage, 'other')).length, 1);

      t.same(await storage.purgePluginData('plugin'), { dropped: [] }, 'an id matching core table names drops nothing of core');
      t.same((await tables(storage)).filter((n) => CORE.includes(n)), CORE);
    })();
  });
}

t.test('migration folders: missing means none, a file without a migration is an error', async (t) => {
  t.same(await loadPluginMigrations(fixtures('does-not-exist')), []);
  const err = await rejection(loadPluginMigrations(fixtures('no-export')));
  t.equal(err.code, 'CORE_ERR_MIGRATION_INVALID');
  t.match(err.message, /001-nothing\.ts exports no migration/);
});

t.test('open errors are coded; sqlite::memory: works', async (t) => {
  t.equal((await rejection(openStorage('postgres://x/y'))).code, 'CORE_ERR_STORAGE_URL_INVALID');
  t.equal((await rejection(openStorage('mysql://127.0.0.1:3306/'))).code, 'CORE_ERR_STORAGE_URL_INVALID');
  const unavailable = await rejection(openStorage('mysql://root:hunter2@127.0.0.1:1/nothing'));
  t.equal(unavailable.code, 'CORE_ERR_STORAGE_UNAVAILABLE');
  t.notMatch(unavailable.message, /hunter2/, 'password is not printed');
  const memory = await openStorage('sqlite::memory:');
  t.equal(memory.kind, 'sqlite');
  t.equal(await memory.sites.count(), 0);
  await memory.close();
  await memory.close();
});

t.test('storage.sqliteCacheKiB: the host connection\'s SQLite page cache (16 MiB unless set)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cacheSize = async (storage: Storage) => ((await storage.dataSource.query('PRAGMA cache_size')) as Array<{ cache_size: number }>)[0]!.cache_size;
  const plain = await openStorage(`sqlite:${join(dir, 'a.db')}`);
  t.equal(await cacheSize(plain), -16384, 'better-sqlite3\'s 16 MiB');
  await plain.close();
  const set = await openStorage(`sqlite:${join(dir, 'b.db')}`, { sqliteCacheKiB: 512 });
  t.equal(await cacheSize(set), -512, 'the configured size');
  await set.close();
});
