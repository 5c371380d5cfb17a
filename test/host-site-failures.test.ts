// Failures that switch a plugin off, and how it comes back:
// - enable(site) throwing fails the plugin for that site only (through the
//   admin API and at boot), with the reason under sites[site].error; an
//   admin re-enable retries the hook.
// - a tripped breaker stays open for plugins.breaker.windowMs (503 with the
//   time left); after it, PUT enabled: true closes it with a clean slate.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/plugins/${path}`, import.meta.url));

interface SiteView { enabled: boolean; config: Record<string, unknown>; error?: string }
interface PluginRow { id: string; state: string; error?: string; sites: Record<string, SiteView> }

async function pluginRow(th: TestHost, id: string): Promise<PluginRow | undefined> {
  const body = (await (await th.adminFetch('/api/admin/plugins')).json()) as { plugins: PluginRow[] };
  return body.plugins.find((p) => p.id === id);
}

function put(th: TestHost, site: string, id: string, body: Record<string, unknown>): Promise<Response> {
  return th.adminFetch(`/api/admin/sites/${site}/plugins/${id}`, { method: 'PUT', body: JSON.stringify(body) });
}

for (const storageUrl of storageUrlsForTests()) {
  const kind = storageUrl.split(':')[0];
  t.test(`a throwing enable(site) fails the plugin for that site only (${kind})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const options = {
        plugins: [fixture('good/hello'), fixture('broken/throwing-enable')],
        sites: ['good.test', 'bad.test', 'other.test'],
        storage: url,
        enable: false,
        adminPassword: 'site-failures-admin',
      };
      let th = await createTestHost(options);
      t.teardown(() => th.close());
      const ping = (site: string) => fetch(`${th.url}/api/plugins/throwing-enable/sites/${site}/ping`);

      t.equal((await put(th, 'good.test', 'throwing-enable', { enabled: true })).status, 200);
      t.equal((await put(th, 'other.test', 'throwing-enable', { enabled: true })).status, 200);
      const refused = await put(th, 'bad.test', 'throwing-enable', { enabled: true });
      t.equal(refused.status, 500, 'enabling where enable() throws fails');
      t.match(await refused.json(), { code: 'CORE_ERR_PLUGIN_ENABLE_FAILED' });

      let row = await pluginRow(th, 'throwing-enable');
      t.equal(row?.state, 'ready', 'the plugin is not failed host-wide');
      t.notOk(row?.error, 'and has no host-wide error');
      t.equal(row?.sites['bad.test']?.enabled, false, 'the failing site stays off');
      t.match(row?.sites['bad.test']?.error, /CORE_ERR_PLUGIN_ENABLE_FAILED: enable\(bad\.test\) threw: .*exploded on purpose/, 'with the reason recorded for that site');
      t.notOk(row?.sites['good.test']?.error, 'other sites carry no error');
      t.equal((await ping('good.test')).status, 200, 'it keeps serving the other sites');
      t.equal((await ping('bad.test')).status, 404, 'but not the failed one');

      // Make enable() throw for good.test from the next boot on; saving config alone does not run the hook.
      t.equal((await put(th, 'good.test', 'throwing-enable', { config: { explode: true } })).status, 200);
      await th.close();
      th = await createTestHost(options);

      row = await pluginRow(th, 'throwing-enable');
      t.equal(row?.state, 'ready', 'after a restart whose enable(good.test) threw, the plugin is still ready');
      t.equal(row?.sites['good.test']?.enabled, true, 'the admin\'s setting is kept');
      t.match(row?.sites['good.test']?.error, /enable\(good\.test\) threw/, 'the boot failure is recorded for that site');
      t.equal((await ping('good.test')).status, 404, 'the site it failed for is not served');
      t.equal((await ping('other.test')).status, 200, 'the others are');

      const retried = await put(th, 'good.test', 'throwing-enable', { enabled: true, config: { explode: false } });
      t.equal(retried.status, 200, 'enabling again retries enable(site)');
      row = await pluginRow(th, 'throwing-enable');
      t.notOk(row?.sites['good.test']?.error, 'and a successful retry clears the error');
      t.equal((await ping('good.test')).status, 200, 'and serves the site again');
    });
  });
}

t.test('a tripped breaker stays open for its window, then an admin re-enable closes it', async (t) => {
  const th = await createTestHost({
    plugins: [fixture('broken/hanging-http')],
    sites: ['s.test'],
    config: { plugins: { handlerTimeoutMs: 2000, breaker: { failures: 2, windowMs: 1500 } } },
  });
  t.teardown(() => th.close());
  const call = (path: string) => fetch(`${th.url}/api/plugins/hanging-http/sites/s.test/${path}`);

  t.equal((await call('throw')).status, 500);
  t.equal((await call('throw')).status, 500);
  const tripped = await pluginRow(th, 'hanging-http');
  t.equal(tripped?.state, 'failed', 'two failures trip it');
  t.match(tripped?.error, /CORE_ERR_PLUGIN_BREAKER_OPEN/);
  t.equal((await call('ok')).status, 503, 'a tripped plugin serves nothing');

  const early = await put(th, 's.test', 'hanging-http', { enabled: true });
  t.equal(early.status, 503, 'within the window the admin cannot re-enable it');
  const earlyBody = (await early.json()) as { code: string; details?: { retryAfterMs?: number } };
  t.equal(earlyBody.code, 'CORE_ERR_PLUGIN_BREAKER_OPEN');
  t.ok((earlyBody.details?.retryAfterMs ?? 0) > 0, 'and is told how long is left');
  t.equal((await call('ok')).status, 503, 'and the refused re-enable changed nothing');

  // Poll until the window has passed; bounded by count and time.
  let status = early.status;
  for (let i = 0; i < 40 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250));
    status = (await put(th, 's.test', 'hanging-http', { enabled: true })).status;
  }
  t.equal(status, 200, 'after the window PUT enabled: true closes the breaker');
  const back = await pluginRow(th, 'hanging-http');
  t.equal(back?.state, 'ready');
  t.notOk(back?.error, 'the breaker error is cleared');
  t.equal((await call('ok')).status, 200, 'it serves again');
  t.equal((await call('throw')).status, 500);
  t.equal((await pluginRow(th, 'hanging-http'))?.state, 'ready', 'with a clean slate: one new failure does not trip it');
});
