// Bulk import of users from CSV over HTTP, on SQLite and MariaDB: a
// per-line report, bad lines create nothing, the good lines around them are
// created. The CLI side is in identity-cli.test.ts.
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { admin, call, EXPECTED_PROBLEMS, SAMPLE_CSV as CSV, signIn } from './identity-helpers.ts';

for (const storageUrl of storageUrlsForTests()) {
  t.test(`CSV import over HTTP (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({ plugins: [], sites: ['a.test'], storage: url, sip: false });
      t.teardown(() => th.close());
      const upload = (text: string, type = 'text/csv') => call(th.url, 'POST', '/api/admin/sites/a.test/users/import', { token: th.adminToken, raw: text, type });

      const res = await upload(CSV);
      t.equal(res.status, 200, JSON.stringify(res.body));
      const report = res.body.report as { created: number; failed: number; usernames: string[]; problems: Array<{ line: number; field: string; code: string; reason: string }> };
      t.equal(report.created, 3);
      t.same(report.usernames, ['alice', 'erin', 'hank']);
      t.equal(report.failed, EXPECTED_PROBLEMS.length);
      t.same(report.problems.map(({ line, field, code }) => ({ line, field, code })), EXPECTED_PROBLEMS, 'one problem per bad line, with line and field');
      t.ok(report.problems.every((p) => p.reason.length > 0), 'every problem has a reason');

      const users = (await admin(th, 'GET', '/api/admin/sites/a.test/users')).body.users as Array<Record<string, unknown>>;
      t.same(users.map((u) => u.username), ['alice', 'erin', 'hank'], 'bad lines created nothing');
      t.match(users[0], { displayName: 'Alice A', aliases: ['al', 'ally'], phone: '+15550100', groups: ['sales', 'support'], enabled: true });
      t.match(users[1], { role: 'site-admin', enabled: false });
      t.match(users[2], { displayName: 'Hank "H" Hill', phone: '5550199' });
      t.equal((await th.host.directory.findByAddress('a.test', 'al'))?.username, 'alice', "dave's failed line left alice's alias alone");
      t.equal(await th.host.directory.findUser('a.test', 'dave'), undefined, 'no half-created dave');
      t.equal((await signIn(th.url, 'hank@a.test', 'hank-password')).status, 200, 'imported passwords work');

      const again = await upload(CSV);
      t.equal(again.body.report.created, 0, 'importing twice creates nothing new');
      t.ok(again.body.report.problems.some((p: { line: number; code: string }) => p.line === 2 && p.code === 'CORE_ERR_USER_EXISTS'), 'duplicates reported');

      const badHeader = await upload('user,pass\nx,y\n');
      t.equal(badHeader.status, 400);
      t.equal(badHeader.body.code, 'CORE_ERR_IMPORT_INVALID');
      t.equal((await upload('')).status, 400, 'empty body');
      const tooBig = await upload(`username,password\n${'x'.repeat(6 * 1024 * 1024)}\n`);
      t.equal(tooBig.status, 413, 'size-limited');
      t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users')).body.users.length, 3, 'refused uploads changed nothing');
      t.equal((await call(th.url, 'POST', '/api/admin/sites/nowhere.test/users/import', { token: th.adminToken, raw: CSV })).status, 404);
    });
  });
}
