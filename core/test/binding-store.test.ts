// The registrar's bindings written behind to the database (BindingStore):
// a batch larger than one statement (50 rows) is inserted, then updated in
// place and partly removed, and a fresh store reads back exactly what the
// first one held, every field (quotes, non-ASCII, nulls, big expiry times
// included); on SQLite and on MariaDB.
import t, { type Test } from 'tap';
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

// Bindings in memory share the values many of them hold alike: 4,000 phones
// whose User-Agent (300 characters here) is the same text, each parsed from
// its own REGISTER, keep one copy of it. Measured in a child process (its
// heap after a full collection): the same bindings with 4,000 different
// User-Agents of that length take at least 0.8 MiB more.
const MEMORY_CHILD = `
import { openStorage } from ${JSON.stringify(new URL('../src/storage/index.ts', import.meta.url).pathname)};
import { BindingEntity, BindingStore, ensureBindingTable } from ${JSON.stringify(new URL('../src/registrar/binding-store.ts', import.meta.url).pathname)};
const mode = process.argv[2];
const distinct = mode === 'distinct';
const storage = await openStorage('sqlite::memory:', { entities: [BindingEntity] });
await ensureBindingTable(storage.dataSource);
const store = new BindingStore(storage.dataSource, { flushDelayMs: 3_600_000 });
const now = Date.now();
const pad = 'x'.repeat(280);
for (let i = 0; i < 4000; i++) {
  // A new string each time, as a parser makes one per message.
  const ua = ('Desk Phone/' + (distinct ? String(10000 + i) : '10000') + ' ' + pad).split('').join('');
  const site = ('sip:' + 'memory.test').slice(4);
  // 'sliced': the Contact URI, Call-ID, instance and Path are pieces of a 2,000-character REGISTER of
  // their own, as a parser hands them over; 'flat': the same values made on their own.
  const contactText = 'sip:u' + i + '@10.1.0.1:5060';
  const callIdText = 'call-' + (1_000_000 + i) + '@10.1.0.1';
  const instanceText = '<urn:uuid:00000000-0000-0000-0000-' + String(100_000_000_000 + i) + '>';
  const pathText = '<sip:edge.memory.test;lr;ob>';
  const message = 'REGISTER sip:memory.test SIP/2.0\\r\\nContact: <' + contactText + '>\\r\\nCall-ID: ' + callIdText
    + '\\r\\nInstance: ' + instanceText + '\\r\\nPath: ' + pathText + '\\r\\n' + 'y'.repeat(1800) + i;
  const piece = (text: string) => mode === 'sliced' ? message.slice(message.indexOf(text), message.indexOf(text) + text.length) : text.split('').join('');
  const contact = piece(contactText);
  await store.apply(site, 'u' + i, [{ id: 'b' + i, site, aor: 'u' + i, contact, key: contact,
    q: 1, expiresAt: now + 3_600_000, callId: piece(callIdText), cseq: 1, userAgent: ua, transport: 'UDP'.toLowerCase(), sourceAddress: '10.1.0.1',
    sourcePort: 5060, path: mode === 'same' || mode === 'distinct' ? [] : [piece(pathText)],
    ...(mode === 'same' || mode === 'distinct' ? {} : { instance: piece(instanceText) }), updatedAt: now }], []);
}
gc(); gc();
const heapUsed = process.memoryUsage().heapUsed;
const b = store.get('memory.test', 'u3999', now)[0];
console.log(JSON.stringify({ heapUsed, count: store.count(), ua: b.userAgent.slice(0, 17), uaLength: b.userAgent.length, path: b.path, site: b.site,
  contact: b.contact, callId: b.callId, instance: b.instance }));
process.exit(0);
`;

interface MemoryChildResult {
  heapUsed: number; count: number; ua: string; uaLength: number; path: string[]; site: string; contact: string; callId: string; instance?: string;
}

/** Runs MEMORY_CHILD once per mode, each in a child process of its own; the results in the same order. */
async function runMemoryChild(t: Test, modes: string[]): Promise<MemoryChildResult[]> {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'binding-memory-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'child.mts');
  writeFileSync(script, MEMORY_CHILD);
  return modes.map((mode) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as MemoryChildResult;
  });
}

t.test('bindings share equal values in memory', async (t) => {
  const [same, distinct] = await runMemoryChild(t, ['same', 'distinct']) as [MemoryChildResult, MemoryChildResult];
  t.same([same.count, same.ua, same.uaLength, same.path, same.site], [4000, 'Desk Phone/10000 ', 297, [], 'memory.test'], 'every binding kept, values as given');
  t.equal(distinct.ua, 'Desk Phone/13999 ', 'distinct values stay distinct');
  t.ok(distinct.heapUsed - same.heapUsed > 0.8 * 1024 * 1024,
    `one User-Agent shared by 4,000 bindings: ${((distinct.heapUsed - same.heapUsed) / 1048576).toFixed(2)} MiB less heap than 4,000 different ones`);
});

// A binding keeps its own copy of the Contact URI, Call-ID, instance and
// Path, not the pieces of the REGISTER a parser hands over: a piece keeps
// the whole message alive (here 2,000 characters, 8 MiB for 4,000
// bindings; 3 MiB for 5,000 sipp users in the REGISTER benchmark).
t.test('bindings do not keep the REGISTER they came from', async (t) => {
  const [sliced, flat] = await runMemoryChild(t, ['sliced', 'flat']) as [MemoryChildResult, MemoryChildResult];
  t.same([sliced.count, sliced.contact, sliced.callId, sliced.instance, sliced.path],
    [4000, 'sip:u3999@10.1.0.1:5060', 'call-1003999@10.1.0.1', '<urn:uuid:00000000-0000-0000-0000-100000003999>', ['<sip:edge.memory.test;lr;ob>']], 'values as given');
  t.ok(sliced.heapUsed - flat.heapUsed < 1024 * 1024,
    `bindings made from pieces of 4,000 REGISTERs: ${((sliced.heapUsed - flat.heapUsed) / 1048576).toFixed(2)} MiB of heap beside those made from values of their own (7.4 MiB more when they kept the messages)`);
});
