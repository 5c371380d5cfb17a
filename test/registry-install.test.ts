// Registry installs through the admin API of a real host (createTestHost):
// trust overrides recorded, dependencies checked both ways, a failing
// upgrade rolled back (files and database), uninstall with purge, and
// uploads that try to escape the plugin folder refused whole.
import t from 'tap';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, copyFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

// better-sqlite3 ships no types; the test only needs read-only queries.
interface ReadOnlyDb { prepare(sql: string): { all(): unknown[]; get(): unknown }; close(): void }
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { readonly: boolean }) => ReadOnlyDb;
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { packPlugin } from '../sdk/src/cli/pack.ts';
import { publishTarball } from '../sdk/src/cli/publish.ts';
import { keygen, signTarball } from '../sdk/src/cli/signing-commands.ts';
import { copyPluginAs, EXAMPLE_DIR } from './registry-helpers.ts';
import { runCli } from './host-cli-helpers.ts';

t.setTimeout(600_000);

interface Fixture {
  work: string;
  registry: string;
  installDir: string;
  host: TestHost;
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }>;
}

async function publish(dir: string, work: string, registry: string, key?: string): Promise<string> {
  const { file } = await packPlugin(dir, work);
  if (key) await signTarball(file, key);
  await publishTarball(file, { registry });
  return file;
}

async function fixture(t: { teardown(fn: () => unknown): void }): Promise<Fixture> {
  const work = await mkdtemp(join(tmpdir(), 'switchboard-registry-'));
  const registry = join(work, 'registry', 'plugin-registry.json');
  const trust = join(work, 'trust');
  const installDir = join(work, 'installed');
  await mkdir(trust);
  const trusted = await keygen(work, 'trusted');
  await copyFile(trusted.publicKeyFile, join(trust, 'trusted.pem'));
  await keygen(work, 'stranger');
  const host = await createTestHost({
    plugins: [],
    sites: ['reg.test'],
    storage: `sqlite:${join(work, 'host.db')}`,
    config: { plugins: { registries: [registry], trustDir: trust, installDir, maxUploadBytes: 64 * 1024 } },
  });
  t.teardown(async () => {
    await host.close();
    await rm(work, { recursive: true, force: true });
  });
  const post = async (path: string, body: unknown) => {
    const res = await host.adminFetch(path, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return { work, registry, installDir, host, post };
}

t.test('unsigned and unknown-key plugins need a recorded per-plugin override', async (t) => {
  const f = await fixture(t);
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v1'), '1.0.0'), f.work, f.registry);
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v2'), '2.0.0'), f.work, f.registry, join(f.work, 'stranger.key'));

  const unsigned = await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0' });
  t.equal(unsigned.status, 422);
  t.equal(unsigned.body.code, 'CORE_ERR_SIGNATURE_MISSING');
  const noReason = await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0', allowUnsigned: true });
  t.equal(noReason.body.code, 'CORE_ERR_SIGNATURE_MISSING', 'an override needs a reason');
  const unknownKey = await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '2.0.0' });
  t.equal(unknownKey.body.code, 'CORE_ERR_SIGNATURE_MISSING');
  t.match(unknownKey.body.message, /not in/);

  const allowed = await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0', allowUnsigned: true, reason: 'in-house build, ticket 42' });
  t.equal(allowed.status, 201, JSON.stringify(allowed.body));
  t.equal(allowed.body.trust, 'unsigned');
  const overrides = (await (await f.host.adminFetch('/api/admin/registry/overrides')).json()) as { overrides: Array<Record<string, string>> };
  t.equal(overrides.overrides.length, 1);
  t.match(overrides.overrides[0], { pluginId: 'who-is-there', version: '1.0.0', kind: 'unsigned', reason: 'in-house build, ticket 42', grantedBy: 'admin' });
  t.ok(!Number.isNaN(Date.parse(overrides.overrides[0]!.grantedAt!)), 'when is recorded');

  const again = await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0', allowUnsigned: true, reason: 'x' });
  t.equal(again.body.code, 'CORE_ERR_PLUGIN_INSTALLED');
});

t.test('dependencies are checked on install and on upgrade', async (t) => {
  const f = await fixture(t);
  const key = join(f.work, 'trusted.key');
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'base1'), '1.0.0'), f.work, f.registry, key);
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'base2'), '2.0.0'), f.work, f.registry, key);
  const dependent = join(f.work, 'dep');
  await mkdir(join(dependent, 'src'), { recursive: true });
  await writeFile(join(dependent, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(dependent, 'plugin.json'), JSON.stringify({
    id: 'who-cares', name: 'who-cares', version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'p', depends: { 'who-is-there': '^1.0.0' },
  }));
  await writeFile(join(dependent, 'src', 'index.ts'), "import { definePlugin } from '@switchboard/sdk';\nexport default definePlugin({ setup() {} });\n");
  await publish(dependent, f.work, f.registry, key);

  const early = await f.post('/api/admin/plugins/install', { id: 'who-cares', version: '1.0.0' });
  t.equal(early.status, 409);
  t.equal(early.body.code, 'CORE_ERR_DEPENDENCY_UNSATISFIED');
  t.match(early.body.message, /needs who-is-there@\^1\.0\.0, which is not installed/);

  t.equal((await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0' })).status, 201);
  t.equal((await f.post('/api/admin/plugins/install', { id: 'who-cares', version: '1.0.0' })).status, 201);
  const breaking = await f.post('/api/admin/plugins/who-is-there/upgrade', { version: '2.0.0' });
  t.equal(breaking.status, 409, 'an upgrade that breaks a dependent is refused');
  t.match(breaking.body.message, /who-cares needs who-is-there@\^1\.0\.0/);

  const uninstallUsed = await f.host.adminFetch('/api/admin/plugins/who-is-there', { method: 'DELETE' });
  t.equal(uninstallUsed.status, 409, 'cannot uninstall what another plugin needs');
});

t.test('an upgrade whose migration fails leaves the previous version (files and database); a good one applies; uninstall purges', async (t) => {
  const f = await fixture(t);
  const key = join(f.work, 'trusted.key');
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v1'), '1.0.0'), f.work, f.registry, key);
  const broken = await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v2'), '1.1.0');
  await writeFile(join(broken, 'src', 'migrations', '002-broken.ts'), `
import { Table, type QueryRunner } from 'typeorm';
export default class Broken {
  name = '002-broken';
  async up(q: QueryRunner) {
    await q.createTable(new Table({ name: 'who_is_there_extra', columns: [{ name: 'id', type: 'integer', isPrimary: true }] }));
    await q.query('SELECT * FROM no_such_table_at_all');
  }
  async down(q: QueryRunner) { await q.query('DROP TABLE IF EXISTS who_is_there_extra'); }
}
`);
  await publish(broken, f.work, f.registry, key);
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v3'), '1.2.0'), f.work, f.registry, key);

  t.equal((await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.0.0' })).status, 201);
  const failed = await f.post('/api/admin/plugins/who-is-there/upgrade', { version: '1.1.0' });
  t.equal(failed.status, 500);
  t.equal(failed.body.code, 'CORE_ERR_UPGRADE_FAILED');
  t.match(failed.body.message, /stays at 1\.0\.0/);
  const manifest = JSON.parse(await readFile(join(f.installDir, 'who-is-there', 'plugin.json'), 'utf8')) as { version: string };
  t.equal(manifest.version, '1.0.0', 'previous files are back');
  await t.rejects(stat(join(f.installDir, 'who-is-there', 'src', 'migrations', '002-broken.ts')), 'the new migration file is gone');

  const db = new Database(join(f.work, 'host.db'), { readonly: true });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'who_is_there_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const ran = (db.prepare("SELECT name FROM plugin_migrations WHERE plugin_id = 'who-is-there' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const recorded = db.prepare("SELECT version FROM plugin_installations WHERE plugin_id = 'who-is-there'").get() as { version: string };
  db.close();
  t.same(tables, ['who_is_there_replies', 'who_is_there_sightings'], 'the failed migration left no table');
  t.same(ran, ['001-create-tables'], 'no migration of the failed upgrade is recorded');
  t.equal(recorded.version, '1.0.0', 'the installation record keeps the previous version');

  const list = (await (await f.host.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; version: string; state: string }> };
  t.match(list.plugins.find((p) => p.id === 'who-is-there'), { version: '1.0.0', state: 'ready' }, 'the previous version keeps running');

  const upgraded = await f.post('/api/admin/plugins/who-is-there/upgrade', { version: '1.2.0' });
  t.equal(upgraded.status, 200, JSON.stringify(upgraded.body));
  t.match(upgraded.body, { version: '1.2.0', previousVersion: '1.0.0', restartRequired: true });

  const kept = await f.host.adminFetch('/api/admin/plugins/who-is-there', { method: 'DELETE' });
  t.equal(kept.status, 200);
  await t.rejects(stat(join(f.installDir, 'who-is-there')), 'files removed');
  t.equal((await f.post('/api/admin/plugins/install', { id: 'who-is-there', version: '1.2.0' })).status, 201, 'installable again after uninstall');
  const purged = await f.host.adminFetch('/api/admin/plugins/who-is-there?purge=true', { method: 'DELETE' });
  const purgeBody = (await purged.json()) as { dropped: string[] };
  t.same(purgeBody.dropped.sort(), ['who_is_there_replies', 'who_is_there_sightings'], 'purge drops the plugin tables and nothing else');
});

/** A raw ustar archive, so tests can make entries tar itself would refuse to write. */
function rawTar(entries: Array<{ name: string; type?: string; linkname?: string; body?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write(e.linkname ?? '', 157, 100, 'utf8');
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

t.test('uploads: size-limited, unpacked safely, refused whole when an entry could escape', async (t) => {
  const f = await fixture(t);
  const upload = async (tgz: Buffer, query = 'allowUnsigned=true&reason=test%20upload') => {
    const res = await f.host.adminFetch(`/api/admin/plugins/upload?${query}`, { method: 'POST', body: new Uint8Array(tgz), headers: { 'content-type': 'application/gzip' } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const manifest = JSON.stringify({ id: 'up', name: 'up', version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'p' });
  const index = "import { definePlugin } from '@switchboard/sdk';\nexport default definePlugin({ setup() {} });\n";
  const cases: Array<[string, Array<{ name: string; type?: string; linkname?: string; body?: string }>, RegExp]> = [
    ['absolute path', [{ name: 'plugin.json', body: manifest }, { name: '/tmp/evil.ts', body: 'x' }], /is absolute/],
    ['dot-dot', [{ name: 'plugin.json', body: manifest }, { name: 'src/../../evil.ts', body: 'x' }], /climbs out/],
    ['symlink', [{ name: 'plugin.json', body: manifest }, { name: 'src/index.ts', type: '2', linkname: '/etc/passwd' }], /SymbolicLink/],
    ['hard link', [{ name: 'plugin.json', body: manifest }, { name: 'src/index.ts', type: '1', linkname: '../../etc/passwd' }], /Link/],
    ['device', [{ name: 'plugin.json', body: manifest }, { name: 'dev', type: '3' }], /CharacterDevice/],
    ['fifo', [{ name: 'plugin.json', body: manifest }, { name: 'pipe', type: '6' }], /FIFO/],
  ];
  for (const [label, entries, why] of cases) {
    const res = await upload(rawTar(entries));
    t.equal(res.status, 422, label);
    t.equal(res.body.code, 'CORE_ERR_PACKAGE_UNSAFE', label);
    t.match(res.body.message, why, label);
  }
  t.same((await readdir(f.installDir).catch(() => [])).filter((n) => !['node_modules', 'package.json'].includes(n)), [], 'nothing was installed');
  await t.rejects(stat('/tmp/evil.ts'), 'nothing written outside');

  const tooBig = await upload(Buffer.alloc(100 * 1024, 1));
  t.equal(tooBig.status, 413, 'larger than plugins.maxUploadBytes');

  const good = rawTar([{ name: 'plugin.json', body: manifest }, { name: 'src/index.ts', body: index }]);
  const refused = await upload(good, '');
  t.equal(refused.body.code, 'CORE_ERR_SIGNATURE_MISSING', 'an unsigned upload needs the override too');
  const ok = await upload(good);
  t.equal(ok.status, 201, JSON.stringify(ok.body));
  t.match(ok.body, { id: 'up', state: 'ready', trust: 'unsigned' });

  const anonymous = await fetch(`${f.host.url}/api/admin/plugins/upload`, { method: 'POST', body: new Uint8Array(good), headers: { 'content-type': 'application/gzip' } });
  t.equal(anonymous.status, 401);
});

t.test('the same through the CLI: plugins available, install, upgrade, uninstall', async (t) => {
  const f = await fixture(t);
  const key = join(f.work, 'trusted.key');
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v1'), '1.0.0'), f.work, f.registry, key);
  await publish(await copyPluginAs(EXAMPLE_DIR, join(f.work, 'v2'), '1.1.0'), f.work, f.registry);
  const cli = (args: string[]) => runCli(['plugins', ...args, '--url', f.host.url, '--password', f.host.adminPassword]);

  const available = await cli(['available']);
  t.equal(available.code, 0, available.stderr);
  t.match(available.stdout, /who-is-there\t1\.1\.0\tunsigned/);
  t.match(available.stdout, /who-is-there\t1\.0\.0\tsigned [0-9a-f]{32}/);

  const installed = await cli(['install', 'who-is-there', '1.0.0']);
  t.equal(installed.code, 0, installed.stderr);
  t.match(installed.stdout, /who-is-there 1\.0\.0 installed, signed:[0-9a-f]{32}, state ready/);

  const refused = await cli(['upgrade', 'who-is-there', '1.1.0']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /CORE_ERR_SIGNATURE_MISSING/);
  const overridden = await cli(['upgrade', 'who-is-there', '1.1.0', '--allow-unsigned', '--reason', 'hotfix from the vendor by mail']);
  t.equal(overridden.code, 0, overridden.stderr);
  t.match(overridden.stdout, /1\.1\.0 upgraded, unsigned.*restart the host/);

  const removed = await cli(['uninstall', 'who-is-there', '--purge']);
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /who-is-there uninstalled; dropped who_is_there_replies, who_is_there_sightings/);
});
