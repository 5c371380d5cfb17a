// `switchboard sites …` and `switchboard users …` (import with its per-line
// report included) against a running host: the real bin on both sides.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, EXPECTED_PROBLEMS, SAMPLE_CSV as CSV, signIn, tokenFor } from './identity-helpers.ts';
import { cleanEnv, freePort, runCli, startHost } from './host-cli-helpers.ts';

t.test('switchboard sites and users commands against a running host', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-identity-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const password = 'identity-cli-password';
  const file = join(dir, 'switchboard.json');
  await writeFile(file, JSON.stringify({
    http: { host: '127.0.0.1', port: await freePort() },
    sip: { contacts: [`sip:127.0.0.1:${await freePort(true)};transport=udp,tcp`] },
    storage: { url: `sqlite:${join(dir, 'switchboard.db')}` },
    sites: [{ domain: 'config.test' }],
    log: { level: 'warn' },
  }));
  const env = cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: password });
  const host = await startHost(file, env);
  t.teardown(() => host.stop());
  const cli = (...args: string[]) => runCli([...args, '--url', host.url], env);
  // Each CLI run signs in once and the host allows 10 sign-ins a minute per address: stay under it.

  const added = await cli('sites', 'add', 'cli.test', '--name', 'CLI Site');
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /site cli\.test added/);

  const csvFile = join(dir, 'users.csv');
  await writeFile(csvFile, CSV);
  const imported = await cli('users', 'import', csvFile, '--site', 'cli.test');
  t.equal(imported.code, 1, 'some lines failed: exit 1');
  for (const p of EXPECTED_PROBLEMS) t.match(imported.stdout, new RegExp(`^line ${p.line}: ${p.field || '-'}: `, 'm'), `line ${p.line} reported`);
  t.match(imported.stdout, /^3 created, 7 failed$/m);

  const listed = await cli('users', 'list', '--site', 'cli.test', '--q', 'ally');
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /^alice\tAlice A\t\+15550100\tal,ally\tuser\tenabled$/m, 'directory search from the CLI');
  t.notMatch(listed.stdout, /erin|hank/, 'only the match');

  const addUser = await cli('users', 'add', 'ivan', '--site', 'cli.test', '--user-password', 'ivan-password', '--display-name', 'Ivan', '--alias', 'iv', '--role', 'site-admin');
  t.equal(addUser.code, 0, addUser.stderr);
  t.match(addUser.stdout, /user sip:ivan@cli\.test added/);

  const passwd = await cli('users', 'passwd', 'ivan', '--site', 'cli.test', '--user-password', 'ivan-password-2');
  t.equal(passwd.code, 0, passwd.stderr);
  t.equal((await signIn(host.url, 'ivan@cli.test', 'ivan-password')).status, 401, 'old password gone');

  // A site admin signs in to the CLI with the new password, but only reaches its own site.
  const foreign = await runCli(['users', 'list', '--site', 'config.test', '--url', host.url, '--user', 'ivan@cli.test'], cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: 'ivan-password-2' }));
  t.equal(foreign.code, 1);
  t.match(foreign.stderr, /CORE_ERR_FORBIDDEN/);

  const removed = await cli('users', 'remove', 'ivan', '--site', 'cli.test');
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /user ivan@cli\.test removed/);
  const siteGone = await cli('sites', 'remove', 'cli.test');
  t.equal(siteGone.code, 0, siteGone.stderr);
  // Checked over HTTP: every CLI run costs a process start with the whole TypeScript toolchain.
  const adminToken = await tokenFor(host.url, 'admin', password);
  const sites = (await call(host.url, 'GET', '/api/admin/sites', { token: adminToken })).body.sites as Array<{ domain: string; fromConfig: boolean }>;
  t.same(sites.map((s) => [s.domain, s.fromConfig]), [['config.test', true]], 'only the config site is left');
});
