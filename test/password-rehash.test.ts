// Password hashes made with older scrypt parameters (N=16384) still sign in,
// and are replaced with one of today's parameters once the password is known
// to be right; a wrong password changes nothing. Site users and the admin,
// on SQLite and MariaDB.
import t from 'tap';
import { randomBytes, scryptSync } from 'node:crypto';
import { createTestHost } from '@switchboard/sdk';
import { openStorage, storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { IDENTITY_ENTITIES, UserEntity } from '../core/src/identity/index.ts';
import { AdminUserEntity } from '../core/src/host/admin-users.ts';
import { admin, signIn } from './identity-helpers.ts';

function olderHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return ['scrypt', 16384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

for (const storageUrl of storageUrlsForTests()) {
  t.test(`older password hashes are replaced at sign-in (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({ plugins: [], sites: ['rehash.test'], storage: url, adminPassword: 'rehash-admin-pass', sip: false });
      t.teardown(() => th.close());
      t.equal((await admin(th, 'POST', '/api/admin/sites/rehash.test/users', { username: 'alice', password: 'alice-pass-1' })).status, 201);

      const storage = await openStorage(url, { entities: [...IDENTITY_ENTITIES, AdminUserEntity] });
      t.teardown(() => storage.close());
      const users = storage.dataSource.getRepository(UserEntity);
      const admins = storage.dataSource.getRepository(AdminUserEntity);
      const aliceHash = async () => (await users.findOneByOrFail({ username: 'alice' })).passwordHash;
      const adminHash = async () => (await admins.findOneByOrFail({ username: 'admin' })).passwordHash;
      t.match(await aliceHash(), /^scrypt\$32768\$8\$1\$/, 'a new user gets N=32768');

      // As a database written by an older version would hold it.
      const old = olderHash('alice-pass-1');
      await users.update({ username: 'alice' }, { passwordHash: old });
      // The directory caches rows; a write through the API (an unrelated user) empties the cache.
      t.equal((await admin(th, 'POST', '/api/admin/sites/rehash.test/users', { username: 'bob', password: 'bob-pass-12' })).status, 201);

      t.equal((await signIn(th.url, 'alice@rehash.test', 'wrong-password')).status, 401, 'a wrong password is refused');
      t.equal(await aliceHash(), old, 'and leaves the older hash alone');
      t.equal((await signIn(th.url, 'alice@rehash.test', 'alice-pass-1')).status, 200, 'the older hash signs in');
      t.match(await aliceHash(), /^scrypt\$32768\$8\$1\$/, 'and is replaced with a hash of today\'s parameters');
      t.equal((await signIn(th.url, 'alice@rehash.test', 'alice-pass-1')).status, 200, 'which signs in');

      const oldAdmin = olderHash('rehash-admin-pass');
      await admins.update({ username: 'admin' }, { passwordHash: oldAdmin });
      t.equal((await signIn(th.url, 'admin', 'not-the-admin-pass')).status, 401);
      t.equal(await adminHash(), oldAdmin, 'a wrong admin password leaves the hash alone');
      t.equal((await signIn(th.url, 'admin', 'rehash-admin-pass')).status, 200, 'the admin signs in with the older hash');
      t.match(await adminHash(), /^scrypt\$32768\$8\$1\$/, 'and the admin hash is replaced too');
      t.equal((await signIn(th.url, 'admin', 'rehash-admin-pass')).status, 200);
    });
  });
}
