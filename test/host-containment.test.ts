// Containment: broken plugins fail alone. Every case runs beside the good
// `hello` plugin, which must keep answering over HTTP and SIP throughout.
import t, { type Test } from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest, type TestHost } from '@switchboard/sdk';
import { openStorage, storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/plugins/${path}`, import.meta.url));
const BROKEN = ['bad-manifest', 'throwing-setup', 'failing-migration', 'throwing-sip', 'hanging-http', 'throwing-enable', 'undeclared-sip', 'outside-prefix'];

interface PluginRow { id: string; state: string; error?: string; sites: Record<string, { enabled: boolean; error?: string }> }

async function plugins(th: TestHost): Promise<Map<string, PluginRow>> {
  const body = (await (await th.adminFetch('/api/admin/plugins')).json()) as { plugins: PluginRow[] };
  return new Map(body.plugins.map((p) => [p.id, p]));
}

async function enable(th: TestHost, site: string, id: string): Promise<Response> {
  return th.adminFetch(`/api/admin/sites/${site}/plugins/${id}`, { method: 'PUT', body: JSON.stringify({ enabled: true }) });
}

async function helloStillServes(t: Test, th: TestHost, label: string): Promise<void> {
  const http = await fetch(`${th.url}/api/plugins/hello/sites/good.test/greeting`);
  t.equal(http.status, 200, `hello answers HTTP ${label}`);
  const sip = await sendSipRequest({ port: th.sipPort, uri: 'sip:alice@good.test', body: `still here ${label}` });
  t.equal(sip.status, 200, `hello answers SIP ${label}`);
}

for (const storageUrl of storageUrlsForTests()) {
  t.test(`broken plugins are contained (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({
        plugins: [fixture('good/hello'), ...BROKEN.map((b) => fixture(`broken/${b}`))],
        sites: ['good.test', 'bad.test'],
        storage: url,
        enable: false,
        // 1 s: long enough for hello's SIP handler (a DB write) on a loaded machine, short enough for the hang cases.
        config: { plugins: { handlerTimeoutMs: 1000, breaker: { failures: 3, windowMs: 60_000 } } },
      });
      t.teardown(() => th.close());
      t.equal((await enable(th, 'good.test', 'hello')).status, 200);

      const health = await fetch(`${th.url}/api/health`);
      t.equal(health.status, 200, 'the host boots despite broken plugins');

      const list = await plugins(th);
      t.equal(list.get('hello')?.state, 'ready');
      t.equal(list.get('bad-manifest')?.state, 'failed');
      t.match(list.get('bad-manifest')?.error, /\/version must be a semver/, 'bad manifest: reason names the field');
      t.match(list.get('bad-manifest')?.error, /permisions/, 'bad manifest: reason names the misspelt field');
      t.equal(list.get('throwing-setup')?.state, 'failed');
      t.match(list.get('throwing-setup')?.error, /CORE_ERR_PLUGIN_SETUP_FAILED.*setup exploded on purpose/);
      t.equal(list.get('failing-migration')?.state, 'failed');
      t.match(list.get('failing-migration')?.error, /CORE_ERR_MIGRATION_FAILED.*002-broken/);
      t.match(list.get('undeclared-sip')?.error, /CORE_ERR_SIP_METHOD_NOT_DECLARED/);
      t.match(list.get('outside-prefix')?.error, /CORE_ERR_HTTP_OUTSIDE_PREFIX/);
      const hijack = await fetch(`${th.url}/api/admin/plugins`);
      t.equal(hijack.status, 401, 'the core route was not replaced by the plugin');

      const peek = await openStorage(url);
      const runner = peek.dataSource.createQueryRunner();
      t.equal(await runner.hasTable('failing_migration_items'), false, 'failing migration: the first migration was undone');
      t.equal(await runner.hasTable('failing_migration_more'), false, 'failing migration: the failing one left nothing');
      t.equal(await runner.hasTable('hello_messages'), true, 'the good plugin is installed');
      await runner.release();
      await peek.close();

      const failedEnable = await enable(th, 'bad.test', 'throwing-setup');
      t.equal(failedEnable.status, 409, 'a failed plugin cannot be enabled');
      t.match(await failedEnable.json(), { code: 'CORE_ERR_PLUGIN_FAILED' });

      const enableThrows = await enable(th, 'bad.test', 'throwing-enable');
      t.equal(enableThrows.status, 500);
      t.match(await enableThrows.json(), { code: 'CORE_ERR_PLUGIN_ENABLE_FAILED' });
      const afterEnable = (await plugins(th)).get('throwing-enable');
      t.equal(afterEnable?.state, 'ready', 'throwing enable fails the plugin for that site only (host-site-failures.test.ts)');
      t.match(afterEnable?.sites['bad.test']?.error, /enable\(bad\.test\) threw.*exploded on purpose/, 'the reason is recorded for the site');
      t.equal(afterEnable?.sites['bad.test']?.enabled, false, 'and does not flip the site setting');
      await helloStillServes(t, th, 'after setup/enable failures');

      t.equal((await enable(th, 'bad.test', 'throwing-sip')).status, 200);
      const sip500 = await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@bad.test', body: 'boom' });
      t.equal(sip500.status, 500, 'a throwing SIP handler answers 500 for that request');
      const sipHang = await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@bad.test', body: 'hang' });
      t.equal(sipHang.status, 503, 'a hanging SIP handler is cut off with 503');
      await helloStillServes(t, th, 'after SIP handler failures');

      t.equal((await enable(th, 'bad.test', 'hanging-http')).status, 200);
      const hang = await fetch(`${th.url}/api/plugins/hanging-http/sites/bad.test/hang`);
      t.equal(hang.status, 504, 'a hanging HTTP handler is cut off');
      t.match(await hang.json(), { code: 'CORE_ERR_HANDLER_TIMEOUT' });
      await helloStillServes(t, th, 'while and after an HTTP handler hung');
      const ok = await fetch(`${th.url}/api/plugins/hanging-http/sites/bad.test/ok`);
      t.equal(ok.status, 200, 'its other routes still answer until the breaker trips');
      const thrown = await fetch(`${th.url}/api/plugins/hanging-http/sites/bad.test/throw`);
      t.equal(thrown.status, 500, 'a throwing HTTP handler answers 500');
      t.match(await thrown.json(), { code: 'CORE_ERR_HANDLER_FAILED' });

      // hang + throw = 2 failures; the third trips the breaker (failures: 3).
      const third = await fetch(`${th.url}/api/plugins/hanging-http/sites/bad.test/throw`);
      t.equal(third.status, 500);
      const tripped = (await plugins(th)).get('hanging-http');
      t.equal(tripped?.state, 'failed', 'repeated failures trip the breaker');
      t.match(tripped?.error, /CORE_ERR_PLUGIN_BREAKER_OPEN: breaker tripped: 3 failures/);
      const refused = await fetch(`${th.url}/api/plugins/hanging-http/sites/bad.test/ok`);
      t.equal(refused.status, 503, 'a tripped plugin serves nothing');
      t.match(await refused.json(), { code: 'CORE_ERR_PLUGIN_BREAKER_OPEN' });

      // throwing-sip had 2 failures (throw, hang); one more trips it too.
      t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@bad.test', body: 'boom' })).status, 500);
      t.equal((await plugins(th)).get('throwing-sip')?.state, 'failed', 'the SIP breaker trips as well');
      const afterTrip = await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@bad.test', body: 'boom' });
      t.equal(afterTrip.status, 404, 'a tripped SIP plugin no longer sees requests');
      await helloStillServes(t, th, 'after both breakers tripped');
    });
  });
}
