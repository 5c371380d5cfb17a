// A partner's plugin, end to end: the sample IM bot in sdk/examples is tested
// with createTestHost, validated, packed, signed and published to a test
// registry with the author CLI; a real host (the `switchboard` bin) installs
// it through the admin API, an admin enables it for one site, and it answers
// over SIP and HTTP. A tampered tarball and a wrong signature are refused.
import t from 'tap';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendSipRequest } from '@switchboard/sdk';
import { freePort, startHost } from './host-cli-helpers.ts';
import { adminSession, copyPluginAs, EXAMPLE_DIR, packSignPublish, pluginCli, runNode } from './registry-helpers.ts';

// Many CLI runs and a host boot: on a loaded CI machine this takes minutes, not the default 180 s.
t.setTimeout(900_000);

t.test('partner plugin: scaffold-tested, packed, signed, published, installed, enabled, used; tampering refused', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'switchboard-partner-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const registry = join(work, 'registry', 'plugin-registry.json');
  const trust = join(work, 'trust');
  await mkdir(trust);

  // The plugin's own createTestHost test passes.
  const ownTest = await runNode(['--import', 'tsx', join(EXAMPLE_DIR, 'test', 'plugin.test.ts')], EXAMPLE_DIR, 120_000);
  t.equal(ownTest.code, 0, `the example's own test passes\n${ownTest.stdout.slice(-2000)}${ownTest.stderr.slice(-2000)}`);

  const validated = await pluginCli(['validate', EXAMPLE_DIR], 120_000);
  t.equal(validated.code, 0, validated.stderr);
  t.match(validated.stdout, /who-is-there@1\.0\.0 is valid/);

  // The publisher's key (trusted by the host) and a rogue key (not trusted).
  t.equal((await pluginCli(['keygen', '--out', work, '--name', 'partner'])).code, 0);
  t.equal((await pluginCli(['keygen', '--out', work, '--name', 'rogue'])).code, 0);
  await copyFile(join(work, 'partner.pub.pem'), join(trust, 'partner.pem'));
  const key = join(work, 'partner.key');

  const goodTarball = await packSignPublish(EXAMPLE_DIR, work, registry, key);
  t.match((await readFile(`${goodTarball}.sig.json`, 'utf8')), /"signature"/);
  const again = await pluginCli(['publish', goodTarball, '--registry', registry]);
  t.equal(again.code, 1, 'a published version is never overwritten');
  t.match(again.stderr, /SDK_ERR_VERSION_EXISTS/);

  // 1.0.1: published, then its tarball is altered on the registry.
  await packSignPublish(await copyPluginAs(EXAMPLE_DIR, join(work, 'v101'), '1.0.1'), work, registry, key);
  const stored = join(work, 'registry', 'tarballs', 'who-is-there-1.0.1.tgz');
  const bytes = await readFile(stored);
  bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
  await writeFile(stored, bytes);

  // 1.0.2: signed by the rogue key, but the catalog claims the trusted key.
  await packSignPublish(await copyPluginAs(EXAMPLE_DIR, join(work, 'v102'), '1.0.2'), work, registry, join(work, 'rogue.key'));
  const catalog = JSON.parse(await readFile(registry, 'utf8')) as { plugins: Record<string, { versions: Record<string, { keyId?: string }>}> };
  const trustedKeyId = catalog.plugins['who-is-there']!.versions['1.0.0']!.keyId!;
  catalog.plugins['who-is-there']!.versions['1.0.2']!.keyId = trustedKeyId;
  await writeFile(registry, JSON.stringify(catalog, null, 2));

  // A real host, from the bin, with its own database and free ports.
  const sipPort = await freePort(true);
  const password = 'partner-admin-password';
  const config = join(work, 'host.json');
  await writeFile(config, JSON.stringify({
    http: { host: '127.0.0.1', port: 0 },
    // Digest challenges are the registrar's business (test/registrar.test.ts); this test is about the plugin.
    sip: { contacts: [`sip:127.0.0.1:${sipPort};transport=udp,tcp`], auth: { challengeMethods: [] } },
    storage: { url: `sqlite:${join(work, 'host.db')}` },
    sites: [{ domain: 'partner.test' }, { domain: 'other.test' }],
    admin: { password },
    plugins: { registries: [registry], trustDir: trust, installDir: join(work, 'installed') },
    log: { level: 'warn' },
  }));
  const host = await startHost(config);
  t.teardown(() => host.stop());
  const api = await adminSession(host.url, password);

  const anonymous = await fetch(`${host.url}/api/admin/plugins/install`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'who-is-there', version: '1.0.0' }),
  });
  t.equal(anonymous.status, 401, 'only an admin may install');

  const listing = (await (await api('/api/admin/registry')).json()) as { plugins: Array<{ id: string; version: string; signed: boolean }> };
  t.same(listing.plugins.map((p) => `${p.id}@${p.version}`), ['who-is-there@1.0.2', 'who-is-there@1.0.1', 'who-is-there@1.0.0']);

  const install = (version: string) => api('/api/admin/plugins/install', { method: 'POST', body: JSON.stringify({ id: 'who-is-there', version }) });
  const tampered = await install('1.0.1');
  t.equal(tampered.status, 422);
  t.equal(((await tampered.json()) as { code: string }).code, 'CORE_ERR_INTEGRITY_MISMATCH', 'tampered tarball refused');
  const forged = await install('1.0.2');
  t.equal(forged.status, 422);
  t.equal(((await forged.json()) as { code: string }).code, 'CORE_ERR_SIGNATURE_INVALID', 'wrong signature refused');
  const forgedAnyway = await api('/api/admin/plugins/install', {
    method: 'POST', body: JSON.stringify({ id: 'who-is-there', version: '1.0.2', allowUnsigned: true, reason: 'trying to force it' }),
  });
  t.equal(((await forgedAnyway.json()) as { code: string }).code, 'CORE_ERR_SIGNATURE_INVALID', 'no override accepts a wrong signature');
  t.same(await readdir(join(work, 'installed')).catch(() => []), [], 'refused installs left no files');

  const installed = await install('1.0.0');
  const outcome = (await installed.json()) as Record<string, unknown>;
  t.equal(installed.status, 201, JSON.stringify(outcome));
  t.match(outcome, { id: 'who-is-there', version: '1.0.0', trust: `signed:${trustedKeyId}`, state: 'ready', restartRequired: false });

  const enabled = await api('/api/admin/sites/partner.test/plugins/who-is-there', { method: 'PUT', body: JSON.stringify({ enabled: true }) });
  t.equal(enabled.status, 200, await enabled.clone().text());

  const alice = await sendSipRequest({ port: sipPort, uri: 'sip:bot@partner.test', from: 'sip:alice@partner.test', body: 'hi' });
  t.equal(alice.status, 200, 'the bot answers a SIP MESSAGE');
  const bob = await sendSipRequest({ port: sipPort, uri: 'sip:bot@partner.test', from: 'sip:bob@partner.test', body: 'who' });
  t.equal(bob.status, 200);
  const base = `${host.url}/api/plugins/who-is-there/sites`;
  const replies = (await (await fetch(`${base}/partner.test/replies?to=${encodeURIComponent('sip:bob@partner.test')}`)).json()) as { replies: Array<{ body: string }> };
  t.same(replies.replies.map((r) => r.body), ['Around lately: sip:alice@partner.test'], 'its HTTP route answers with the bot reply');
  const present = await fetch(`${base}/partner.test/present`);
  t.equal(present.status, 200);

  const elsewhere = await fetch(`${base}/other.test/present`);
  t.equal(elsewhere.status, 404, 'not enabled for the other site');
  t.equal(((await elsewhere.json()) as { code: string }).code, 'CORE_ERR_PLUGIN_NOT_ENABLED');
  const otherSip = await sendSipRequest({ port: sipPort, uri: 'sip:bot@other.test', from: 'sip:eve@other.test', body: 'who' });
  t.not(otherSip.status, 200, 'no bot on the other site');

  const plugins = (await (await api('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; version: string; state: string }> };
  t.match(plugins.plugins.find((p) => p.id === 'who-is-there'), { version: '1.0.0', state: 'ready' });
});
