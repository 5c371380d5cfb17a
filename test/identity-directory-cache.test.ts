// The directory's lookup cache, on SQLite and MariaDB: a change made through
// this host is seen at once (every identity write empties the cache), a
// change another host made in the shared database is seen once the cached
// answer is older than DIRECTORY_CACHE_MS, and a read that overlapped a
// write does not keep what it read; lookups at once share a query, and an
// entry in use is read again ahead of its expiry.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createTestHost } from '@switchboard/sdk';
import { openStorage, storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { IDENTITY_ENTITIES, UserDirectory, UserEntity } from '../core/src/identity/index.ts';
import { DIRECTORY_CACHE_MS } from '../core/src/identity/user-directory.ts';
import { admin } from './identity-helpers.ts';

const md5 = (user: string, realm: string, password: string) => createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');

for (const storageUrl of storageUrlsForTests()) {
  t.test(`directory cache (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({ plugins: [], sites: ['cache.test'], storage: url, adminPassword: 'directory-cache-admin', sip: false });
      t.teardown(() => th.close());
      const users = '/api/admin/sites/cache.test/users';
      t.equal((await admin(th, 'POST', users, { username: 'alice', password: 'alice-pass-1', aliases: ['al'] })).status, 201);

      // This host: a write through the API is seen by the next lookup.
      const own = th.host.directory;
      t.equal((await own.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-1'));
      t.equal((await own.findByAddress('cache.test', 'al'))?.username, 'alice');
      t.equal((await admin(th, 'POST', `${users}/alice/password`, { password: 'alice-pass-2' })).status, 204);
      t.equal((await own.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-2'), 'a password reset is seen at once');
      t.equal((await admin(th, 'PATCH', `${users}/alice`, { aliases: ['wonder'] })).status, 200);
      t.equal(await own.findByAddress('cache.test', 'al'), undefined, 'a removed alias stops reaching the user at once');
      t.equal((await own.findByAddress('cache.test', 'wonder'))?.username, 'alice', 'a new alias reaches the user at once');
      t.equal(await own.findByAddress('cache.test', 'bob'), undefined);
      t.equal((await admin(th, 'POST', users, { username: 'bob', password: 'bob-pass-1' })).status, 201);
      t.equal((await own.findByAddress('cache.test', 'bob'))?.username, 'bob', 'a cached "not found" is forgotten when a user is created');

      // Answers are copies: changing one does not change what the next caller gets.
      const first = (await own.findByAddress('cache.test', 'wonder'))!;
      first.aliases.push('mutated');
      first.displayName = 'changed by a caller';
      const again = (await own.findByAddress('cache.test', 'wonder'))!;
      t.same(again.aliases, ['wonder'], 'cached answers cannot be changed by callers');
      t.not(again.displayName, 'changed by a caller');

      // Another host on the same database: its cache holds until DIRECTORY_CACHE_MS.
      let clock = 1_000_000;
      const peerStorage = await openStorage(url, { entities: IDENTITY_ENTITIES });
      t.teardown(() => peerStorage.close());
      const peer = new UserDirectory(peerStorage, { now: () => clock });
      t.equal((await peer.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-2'));
      // record() reads one prepared statement and hydrates it with typeorm's driver: the same row as the query builder's.
      const built = await peerStorage.dataSource.getRepository(UserEntity).createQueryBuilder('u').innerJoin('Site', 's', 's.id = u.siteId')
        .where('s.domain = :domain', { domain: 'cache.test' }).andWhere('u.username = :name', { name: 'alice' }).getOne();
      const raw = await peer.record('Cache.TEST', 'Alice');
      t.same(raw, built, 'record() gives what typeorm\'s query builder gives, field for field');
      t.ok(raw && typeof raw.enabled === 'boolean' && Array.isArray(raw.aliases) && raw.createdAt instanceof Date, 'booleans, JSON and dates hydrated');
      t.equal(raw?.createdAt.getTime(), built?.createdAt.getTime(), 'the same instant');
      t.equal(await peer.record('cache.test', 'nobody'), undefined, 'no row, undefined');
      t.same(await peer.findByAddress('cache.test', 'wonder'), await peer.findUser('cache.test', 'alice'), 'by address (its own query, through user_addresses) the same user as by name');
      t.equal((await admin(th, 'POST', `${users}/alice/password`, { password: 'alice-pass-3' })).status, 204);
      clock += DIRECTORY_CACHE_MS - 1;
      t.equal((await peer.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-2'), 'the other host answers from its cache');
      clock += 1;
      t.equal((await peer.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-3'), 'and reads the change once the entry is DIRECTORY_CACHE_MS old');

      // Expired lookups do not stay in memory: the sweep drops what is older than DIRECTORY_CACHE_MS, oldest first.
      await peer.findUser('cache.test', 'bob');
      clock += 10_000;
      await peer.findByAddress('cache.test', 'wonder');
      const held = peer.cachedEntries;
      t.ok(held >= 3, `lookups are cached (${held})`);
      clock += DIRECTORY_CACHE_MS - 10_000;
      peer.sweepExpired();
      t.equal(peer.cachedEntries, 1, 'the sweep dropped the lookups older than DIRECTORY_CACHE_MS and kept the fresh one');
      clock += 10_000;
      peer.sweepExpired();
      t.equal(peer.cachedEntries, 0, 'and the last once it expired');
      t.equal((await peer.findByAddress('cache.test', 'wonder'))?.username, 'alice', 'a swept lookup is read again');

      // Lookups of one user at the same time share one query; a lookup past the entry's refresh age
      // (half to nine tenths of DIRECTORY_CACHE_MS) is answered from the cache and reads the row
      // again in the background, so a user in use never misses.
      let queries = 0;
      const query = peerStorage.dataSource.query.bind(peerStorage.dataSource);
      peerStorage.dataSource.query = ((sql: string, parameters?: unknown[]) => {
        queries++;
        return query(sql, parameters);
      }) as typeof peerStorage.dataSource.query;
      peer.changed();
      const together = await Promise.all([1, 2, 3, 4, 5].map(() => peer.digestCredentials('cache.test', 'alice')));
      t.equal(queries, 1, 'five lookups at once, one query');
      t.same(new Set(together.map((c) => c?.ha1Md5)), new Set([md5('alice', 'cache.test', 'alice-pass-3')]), 'all five answered');
      clock += DIRECTORY_CACHE_MS * 0.45;
      await peer.digestCredentials('cache.test', 'alice');
      t.equal(queries, 1, 'before its refresh age the entry is answered with no query');
      t.equal((await admin(th, 'POST', `${users}/alice/password`, { password: 'alice-pass-4' })).status, 204);
      clock += DIRECTORY_CACHE_MS * 0.45;
      t.equal((await peer.digestCredentials('cache.test', 'alice'))?.ha1Md5, md5('alice', 'cache.test', 'alice-pass-3'), 'past it, still answered from the cache at once');
      t.equal(queries, 2, 'and read again in the background');
      let refreshed: string | undefined;
      for (let i = 0; i < 100 && refreshed !== md5('alice', 'cache.test', 'alice-pass-4'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        refreshed = (await peer.digestCredentials('cache.test', 'alice'))?.ha1Md5;
      }
      t.equal(refreshed, md5('alice', 'cache.test', 'alice-pass-4'), 'the row read in the background replaces it, before the old one expired');
      t.equal(queries, 2, 'one background read, however many lookups came while it ran');
      peerStorage.dataSource.query = query;

      // A lookup that overlapped a write is not stored: the next one reads the database.
      const inFlight = peer.findUser('cache.test', 'bob');
      peer.changed();
      t.equal((await inFlight)?.displayName, 'bob');
      t.equal((await admin(th, 'PATCH', `${users}/bob`, { displayName: 'Bob Builder' })).status, 200);
      t.equal((await peer.findUser('cache.test', 'bob'))?.displayName, 'Bob Builder', 'the overlapped read was not kept');

      // Disabling a user takes their digest credentials away at once on this host.
      t.equal((await admin(th, 'PATCH', `${users}/bob`, { enabled: false })).status, 200);
      t.equal(await own.digestCredentials('cache.test', 'bob'), undefined, 'a disabled user has no credentials at once');
      t.equal((await admin(th, 'DELETE', `${users}/bob`)).status, 204);
      t.equal(await own.findUser('cache.test', 'bob'), undefined, 'a deleted user is gone at once');
    });
  });
}
