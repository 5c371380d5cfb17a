// `switchboard plugins …` against a running host (the real bin, both sides):
// the CLI talks to the admin API, so the running host sees every change at once.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, freePort, runCli, startHost } from './host-cli-helpers.ts';

const GOOD_PLUGINS = fileURLToPath(new URL('./fixtures/plugins/good', import.meta.url));
const PASSWORD = 'cli-test-password';

t.test('plugins list/enable/disable/config through the admin API', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'switchboard.json');
  await writeFile(file, JSON.stringify({
    http: { host: '127.0.0.1', port: await freePort() },
    sip: { contacts: [`sip:127.0.0.1:${await freePort(true)};transport=udp,tcp`] },
    storage: { url: `sqlite:${join(dir, 'switchboard.db')}` },
    sites: [{ domain: 'cli.test' }, { domain: 'other.test' }],
    plugins: { dirs: [GOOD_PLUGINS] },
    log: { level: 'warn' },
  }));
  const host = await startHost(file, cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: PASSWORD }));
  t.teardown(() => host.stop());
  const cli = (...args: string[]) => runCli([...args, '--url', host.url], cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: PASSWORD }));

  const listed = await cli('plugins', 'list', '--json');
  t.equal(listed.code, 0, listed.stderr);
  const plugins = JSON.parse(listed.stdout) as Array<{ id: string; state: string; sites: Record<string, { enabled: boolean }> }>;
  // The repository's own plugins/ are listed too; these are the fixtures this test drives.
  const fixtures = plugins.filter((p) => p.id === 'hello' || p.id === 'needs-hello');
  t.same(fixtures.map((p) => [p.id, p.state]), [['hello', 'ready'], ['needs-hello', 'ready']]);
  t.equal(fixtures[0]!.sites['cli.test']!.enabled, false);

  const needsFirst = await cli('plugins', 'enable', 'needs-hello', '--site', 'cli.test');
  t.equal(needsFirst.code, 1, 'a refused change exits 1');
  t.match(needsFirst.stderr, /CORE_ERR_DEPENDENCY_DISABLED/);
  t.match(needsFirst.stderr, /hello/);

  const enabled = await cli('plugins', 'enable', 'hello', '--site', 'cli.test');
  t.equal(enabled.code, 0, enabled.stderr);
  t.match(enabled.stdout, /hello enabled for cli\.test/);
  const greeting = await fetch(`${host.url}/api/plugins/hello/sites/cli.test/greeting`);
  t.equal(greeting.status, 200, 'the running host serves it at once');

  const configured = await cli('plugins', 'config', 'hello', '--site', 'cli.test', '--set', 'greeting=Moin', '--set', 'maxBody=20');
  t.equal(configured.code, 0, configured.stderr);
  t.same(JSON.parse(configured.stdout), { greeting: 'Moin', maxBody: 20 });
  t.match(await (await fetch(`${host.url}/api/plugins/hello/sites/cli.test/greeting`)).json(), { greeting: 'Moin' });

  const invalid = await cli('plugins', 'config', 'hello', '--site', 'cli.test', '--set', 'maxBody=0');
  t.equal(invalid.code, 1);
  t.match(invalid.stderr, /CORE_ERR_PLUGIN_CONFIG_INVALID/);
  t.match(invalid.stderr, /maxBody/, 'the ajv error is printed');

  const human = await cli('plugins', 'list');
  t.match(human.stdout, /^hello\t1\.0\.0\tready\ton: cli\.test$/m);

  const disabled = await cli('plugins', 'disable', 'hello', '--site', 'cli.test');
  t.equal(disabled.code, 0, disabled.stderr);
  t.equal((await fetch(`${host.url}/api/plugins/hello/sites/cli.test/greeting`)).status, 404);

  const wrongPassword = await runCli(['plugins', 'list', '--url', host.url, '--password', 'nope'], cleanEnv());
  t.equal(wrongPassword.code, 1);
  t.match(wrongPassword.stderr, /CORE_ERR_AUTH_INVALID/);

  const unreachable = await runCli(['plugins', 'list', '--url', `http://127.0.0.1:${await freePort()}`, '--password', PASSWORD], cleanEnv());
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, /CLI_HOST_UNREACHABLE/);
});
