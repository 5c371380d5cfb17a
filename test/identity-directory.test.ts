// Sites and users through the admin API, the directory the SIP side and
// plugins read, and persistence across a restart — on SQLite and MariaDB.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { UserDirectory } from '../core/src/identity/index.ts';
import { admin, call, DIRECTORY_WATCH, signIn } from './identity-helpers.ts';

const ADMIN_PASSWORD = 'identity-directory-admin';
const ha1 = (alg: string, user: string, realm: string, password: string) => createHash(alg).update(`${user}:${realm}:${password}`).digest('hex');

for (const storageUrl of storageUrlsForTests()) {
  t.test(`sites, users and the directory (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const boot = () => createTestHost({ plugins: [DIRECTORY_WATCH], sites: ['config.test'], storage: url, adminPassword: ADMIN_PASSWORD, sip: false });
      let th: TestHost = await boot();
      t.teardown(() => th.close());

      // Sites
      const created = await admin(th, 'POST', '/api/admin/sites', { domain: 'Example.TEST', name: 'Example' });
      t.equal(created.status, 201, 'site created');
      t.match(created.body, { site: { domain: 'example.test', name: 'Example', fromConfig: false, users: 0 } });
      const dup = await admin(th, 'POST', '/api/admin/sites', { domain: 'example.test' });
      t.equal(dup.status, 409, 'duplicate site is 409');
      t.equal(dup.body.code, 'CORE_ERR_SITE_EXISTS');
      const badSite = await admin(th, 'POST', '/api/admin/sites', { domain: 'not a domain', extra: 1 });
      t.equal(badSite.status, 400);
      t.equal(badSite.body.code, 'CORE_ERR_REQUEST_INVALID');
      t.ok(Array.isArray(badSite.body.details) && badSite.body.details.length >= 2, 'every ajv error is listed');
      const list = await admin(th, 'GET', '/api/admin/sites');
      t.same(list.body.sites.map((s: { domain: string }) => s.domain), ['config.test', 'example.test'], 'sites listed, nothing from the bad request');
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/example.test', { name: 'Example Ltd' })).body.site.name, 'Example Ltd');
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/config.test', { name: 'x' })).body.code, 'CORE_ERR_SITE_IN_CONFIG', 'config sites are read-only');
      t.equal((await admin(th, 'DELETE', '/api/admin/sites/config.test')).status, 409);
      t.equal((await admin(th, 'GET', '/api/admin/sites/nowhere.test')).status, 404);

      // Users
      const alice = await admin(th, 'POST', '/api/admin/sites/example.test/users', {
        username: 'alice', password: 'alice-secret-1', displayName: 'Alice Liddell',
        aliases: ['al', 'wonder'], phone: '+1 (555) 010-2030', email: 'alice@example.test', groups: ['sales'],
      });
      t.equal(alice.status, 201, 'user created');
      t.match(alice.body.user, {
        site: 'example.test', username: 'alice', displayName: 'Alice Liddell', sipUri: 'sip:alice@example.test',
        aliases: ['al', 'wonder'], phone: '+15550102030', email: 'alice@example.test', groups: ['sales'], role: 'user', enabled: true,
      });
      t.notOk(JSON.stringify(alice.body).includes('alice-secret-1'), 'the password is not echoed');
      t.notMatch(JSON.stringify(alice.body), /ha1|hash/i, 'no credential fields in the API');
      t.equal((await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'alice', password: 'another-pass' })).status, 409, 'duplicate username is 409');
      const clash = await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'bob', password: 'bob-secret-1', aliases: ['wonder'] });
      t.equal(clash.status, 409, 'an alias already in use is 409');
      t.match(clash.body, { code: 'CORE_ERR_ADDRESS_TAKEN', details: { address: 'wonder' } });
      const clashName = await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'al', password: 'bob-secret-1' });
      t.equal(clashName.body.code, 'CORE_ERR_ADDRESS_TAKEN', "a username that is someone's alias is refused");
      const invalid = await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'Bad Name', password: 'short', email: 'nope' });
      t.equal(invalid.status, 400);
      const paths = (invalid.body.details as Array<{ instancePath: string }>).map((d) => d.instancePath).sort();
      t.same(paths, ['/email', '/password', '/username'], 'each bad field is named');
      t.equal((await admin(th, 'GET', '/api/admin/sites/example.test/users/bob')).status, 404, 'refused requests created nothing');
      t.equal((await admin(th, 'POST', '/api/admin/sites/nowhere.test/users', { username: 'x1', password: 'password-1' })).body.code, 'CORE_ERR_SITE_NOT_FOUND');

      t.equal((await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'bob', password: 'bob-secret-1', displayName: 'Bob Builder', phone: '5550199' })).status, 201);
      t.equal((await admin(th, 'POST', '/api/admin/sites/example.test/users', { username: 'carol', password: 'carol-secret', displayName: 'Carol Alston' })).status, 201);
      t.equal((await admin(th, 'POST', '/api/admin/sites/config.test/users', { username: 'alice', password: 'other-site-1', displayName: 'Other Alice' })).status, 201, 'usernames are per site');

      const search = async (q: string) => ((await admin(th, 'GET', `/api/admin/sites/example.test/users?q=${encodeURIComponent(q)}`)).body.users as Array<{ username: string }>).map((u) => u.username);
      t.same(await search('liddell'), ['alice'], 'search by display name, case-insensitive');
      t.same(await search('wond'), ['alice'], 'search by alias');
      t.same(await search('555-0199'), ['bob'], 'search by number, separators ignored');
      t.same(await search('al'), ['alice', 'carol'], 'name and alias hits, ordered');
      t.same(await search('%'), [], 'LIKE wildcards are literal');
      t.same(await search(''), ['alice', 'bob', 'carol'], 'empty q lists all');

      // PATCH, disable, password reset
      const patched = await admin(th, 'PATCH', '/api/admin/sites/example.test/users/bob', { aliases: ['builder'], phone: null, role: 'site-admin' });
      t.equal(patched.status, 200);
      t.match(patched.body.user, { aliases: ['builder'], role: 'site-admin' });
      t.notOk('phone' in patched.body.user, 'phone cleared');
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/example.test/users/bob', { aliases: ['al'] })).status, 409, 'PATCH checks addresses too');
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/example.test/users/bob', { username: 'robert' })).status, 400, 'username is immutable');
      t.equal((await admin(th, 'GET', '/api/admin/sites/example.test/users/bob')).body.user.aliases[0], 'builder', 'a refused PATCH changed nothing');

      // The directory as the SIP side reads it (same object the host exposes).
      const dir: UserDirectory = th.host.directory;
      t.match(await dir.findUser('EXAMPLE.test', 'Alice'), { username: 'alice', site: 'example.test' }, 'lookups ignore case');
      t.equal((await dir.findByAddress('example.test', 'wonder'))?.username, 'alice', 'alias reaches the user');
      t.equal((await dir.findByAddress('example.test', '+15550102030'))?.username, 'alice', 'phone number reaches the user');
      t.equal((await dir.findByAddress('example.test', '+1-555-010-2030'))?.username, 'alice', 'visual separators ignored');
      t.equal((await dir.findByAddress('example.test', 'builder'))?.username, 'bob');
      t.equal(await dir.findByAddress('example.test', '5550199'), undefined, 'cleared phone no longer reaches bob');
      t.equal(await dir.findByAddress('config.test', 'wonder'), undefined, 'addresses are per site');
      const creds = await dir.digestCredentials('example.test', 'alice');
      t.same(creds, {
        userId: alice.body.user.id, realm: 'example.test',
        ha1Md5: ha1('md5', 'alice', 'example.test', 'alice-secret-1'),
        ha1Sha256: ha1('sha256', 'alice', 'example.test', 'alice-secret-1'),
      }, 'HA1 = H(username:realm:password) for MD5 and SHA-256');
      t.equal(await dir.digestCredentials('example.test', 'nobody'), undefined);
      t.same((await dir.list('example.test')).map((u) => u.username), ['alice', 'bob', 'carol']);

      t.equal((await admin(th, 'POST', '/api/admin/sites/example.test/users/alice/password', { password: 'alice-secret-2' })).status, 204, 'admin reset');
      t.equal((await dir.digestCredentials('example.test', 'alice'))?.ha1Md5, ha1('md5', 'alice', 'example.test', 'alice-secret-2'), 'HA1 follows the new password');
      t.equal((await signIn(th.url, 'alice@example.test', 'alice-secret-1')).status, 401, 'old password refused');
      t.equal((await signIn(th.url, 'alice@example.test', 'alice-secret-2')).status, 200, 'new password signs in');

      t.equal((await admin(th, 'PATCH', '/api/admin/sites/example.test/users/carol', { enabled: false })).status, 200);
      t.equal(await dir.digestCredentials('example.test', 'carol'), undefined, 'no digest credentials for a disabled user');
      t.equal((await dir.findUser('example.test', 'carol'))?.enabled, false, 'still in the directory, marked disabled');
      t.equal((await signIn(th.url, 'carol', 'carol-secret', 'example.test')).status, 401, 'disabled users cannot sign in');

      // A plugin sees the directory read-only through ctx.directory.
      t.equal((await admin(th, 'PUT', '/api/admin/sites/example.test/plugins/directory-watch', { enabled: true })).status, 200);
      const viaPlugin = await call(th.url, 'GET', '/api/plugins/directory-watch/sites/example.test/lookup?address=wonder');
      t.equal(viaPlugin.body.user.username, 'alice', 'ctx.directory.findByAddress');
      const members = await call(th.url, 'GET', '/api/plugins/directory-watch/sites/example.test/members');
      t.same(members.body.methods, ['findByAddress', 'findUser', 'list', 'search'], 'only read methods reach plugins');
      t.same((await call(th.url, 'GET', '/api/plugins/directory-watch/sites/example.test/search?q=builder')).body.users.map((u: { username: string }) => u.username), ['bob']);

      // Restart on the same database: API sites and users are back.
      await th.close();
      th = await boot();
      t.match((await admin(th, 'GET', '/api/admin/sites/example.test')).body.site, { domain: 'example.test', name: 'Example Ltd', users: 3 }, 'API site survives a restart');
      t.equal((await signIn(th.url, 'bob', 'bob-secret-1', 'example.test')).status, 200, 'users survive a restart');
      t.equal((await call(th.url, 'GET', '/api/plugins/directory-watch/sites/example.test/lookup?address=builder')).body.user.username, 'bob', 'plugin setting for an API site survives too');

      // Deleting: a user, then the site (refused while a plugin is on for it).
      t.equal((await admin(th, 'DELETE', '/api/admin/sites/example.test/users/carol')).status, 204);
      t.equal((await admin(th, 'GET', '/api/admin/sites/example.test/users/carol')).status, 404);
      const inUse = await admin(th, 'DELETE', '/api/admin/sites/example.test');
      t.equal(inUse.status, 409);
      t.match(inUse.body, { code: 'CORE_ERR_SITE_IN_USE', details: { plugins: ['directory-watch'] } });
      t.equal((await admin(th, 'PUT', '/api/admin/sites/example.test/plugins/directory-watch', { enabled: false })).status, 200);
      t.equal((await admin(th, 'DELETE', '/api/admin/sites/example.test')).status, 204, 'site removed');
      t.equal((await admin(th, 'GET', '/api/admin/sites/example.test')).status, 404);
      t.equal(await th.host.directory.findUser('example.test', 'alice'), undefined, 'its users went with it');
      t.equal((await th.host.directory.findUser('config.test', 'alice'))?.displayName, 'Other Alice', 'other sites untouched');
      t.equal((await admin(th, 'POST', '/api/admin/sites', { domain: 'example.test' })).status, 201, 'the domain can be added again');
      t.same((await admin(th, 'GET', '/api/admin/sites/example.test/users')).body.users, [], 'fresh, without the old users');
    });
  });
}
