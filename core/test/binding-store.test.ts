// The registrar's bindings written behind to the database (BindingStore):
// a batch larger than one statement (50 rows) is inserted, then updated in
// place and partly removed, and a fresh store reads back exactly what the
// first one held, every field (quotes, non-ASCII, nulls, big expiry times
// included); on SQLite and on MariaDB.
import t from 'tap';
import { openStorage, storageUrlsForTests, withTestDatabase } from '../src/storage/index.ts';
import { BindingEntity, BindingStore, ensureBindingTable, type Binding } from '../src/registrar/binding-store.ts';

const SITE = 'bindings.test';
const NOW = 1_796_000_000_000;

function binding(i: number, over: Partial<Binding> = {}): Binding {
  return {
    id: `b-${i}`, site: SITE, aor: `user${i % 40}`, contact: `sip:user${i}@10.0.${i % 250}.1:5060;ob`, key: `sip:user${i}@10.0.${i % 250}.1:5060`,
    q: i % 2 ? 0.5 : 1, expiresAt: NOW + 3_600_000 + i, callId: `call-${i}@"quoted" host`, cseq: i, userAgent: `Phone ‘${i}’ ✓`,
    transport: i % 3 ? 'udp' : 'tcp', sourceAddress: `10.0.${i % 250}.1`, sourcePort: 5060 + i, path: i % 4 ? [] : ['<sip:edge.test;lr>'],
    ...(i % 5 === 0 ? { instance: `<urn:uuid:00000000-0000-0000-0000-${String(i).padStart(12, '0')}>`, regId: 1 } : {}),
    updatedAt: NOW + i, ...over,
  };
}

const sorted = (list: Binding[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));

for (const url of storageUrlsForTests()) {
  t.test(`bindings written behind and read back (${url.split(':')[0]})`, async (t) => {
    await withTestDatabase(url, async (dbUrl) => {
      const storage = await openStorage(dbUrl, { entities: [BindingEntity] });
      t.teardown(() => storage.close());
      await ensureBindingTable(storage.dataSource);
      const store = new BindingStore(storage.dataSource, { flushDelayMs: 10_000 });
      const all = Array.from({ length: 130 }, (_, i) => binding(i));
      for (let a = 0; a < 40; a++) await store.apply(SITE, `user${a}`, all.filter((b) => b.aor === `user${a}`), []);
      await store.flush();
      const fresh = new BindingStore(storage.dataSource);
      t.equal(await fresh.load(NOW), 130, 'all 130 rows written (three statements)');
      const read = (s: BindingStore) => sorted(Array.from({ length: 40 }, (_, a) => s.get(SITE, `user${a}`, NOW)).flat());
      t.same(read(fresh), sorted(all), 'every field as written');

      // Refreshed (same ids, new values) and some removed: rows updated in place, not duplicated.
      const refreshed = all.filter((b) => b.cseq % 2 === 0).map((b) => ({ ...b, cseq: b.cseq + 1000, expiresAt: b.expiresAt + 60_000, path: ['<sip:new.test;lr>'], userAgent: 'it\'s "new"' }));
      const removed = all.filter((b) => b.cseq % 2 === 1 && b.cseq % 13 === 1);
      for (let a = 0; a < 40; a++) {
        await store.apply(SITE, `user${a}`, refreshed.filter((b) => b.aor === `user${a}`), removed.filter((b) => b.aor === `user${a}`));
      }
      await store.flush();
      const rows = (await storage.dataSource.query('SELECT COUNT(*) AS n FROM registrar_bindings')) as Array<{ n: number | string }>;
      t.equal(Number(rows[0]!.n), 130 - removed.length, 'one row per binding after updates and removals');
      const again = new BindingStore(storage.dataSource);
      await again.load(NOW);
      t.same(read(again), read(store), 'a fresh store reads what the writing one holds');
      t.ok(read(again).some((b) => b.cseq === 1000 && b.userAgent === 'it\'s "new"'), 'updates landed');
    });
  });
}
