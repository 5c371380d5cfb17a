// Runtime toggling per site through the admin API: auth, 400/409 answers
// that change nothing, effects visible on the very next request (HTTP, SIP,
// UI), and persistence across a restart — on SQLite and on MariaDB.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/plugins/${path}`, import.meta.url));
const PLUGINS = [fixture('good/hello'), fixture('good/needs-hello')];
const PASSWORD = 'plugins-test-password';

function put(th: TestHost, site: string, id: string, body: unknown): Promise<Response> {
  return th.adminFetch(`/api/admin/sites/${site}/plugins/${id}`, { method: 'PUT', body: JSON.stringify(body) });
}

async function view(th: TestHost, id: string): Promise<{ state: string; sites: Record<string, { enabled: boolean; config: Record<string, unknown> }> }> {
  const body = (await (await th.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; state: string; sites: Record<string, { enabled: boolean; config: Record<string, unknown> }> }> };
  return body.plugins.find((p) => p.id === id)!;
}

const greeting = async (th: TestHost, site: string) => fetch(`${th.url}/api/plugins/hello/sites/${site}/greeting`);

for (const storageUrl of storageUrlsForTests()) {
  t.test(`per-site toggling (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const boot = () => createTestHost({ plugins: PLUGINS, sites: ['a.test', 'b.test'], storage: url, enable: false, adminPassword: PASSWORD });
      let th = await boot();
      t.teardown(() => th.close());

      const anonymous = await fetch(`${th.url}/api/admin/plugins`);
      t.equal(anonymous.status, 401);
      t.match(await anonymous.json(), { code: 'CORE_ERR_AUTH_REQUIRED' });
      const forged = await fetch(`${th.url}/api/admin/plugins`, { headers: { authorization: `Bearer ${th.adminToken.slice(0, -2)}xx` } });
      t.equal(forged.status, 401, 'a tampered token is refused');

      const off = await greeting(th, 'a.test');
      t.equal(off.status, 404, 'plugin routes answer 404 while the plugin is off for the site');
      t.match(await off.json(), { code: 'CORE_ERR_PLUGIN_NOT_ENABLED' });
      t.match(await (await greeting(th, 'nowhere.test')).json(), { code: 'CORE_ERR_SITE_NOT_FOUND' });

      const needsFirst = await put(th, 'a.test', 'needs-hello', { enabled: true });
      t.equal(needsFirst.status, 409, 'enabling before the dependency is 409');
      t.match(await needsFirst.json(), { code: 'CORE_ERR_DEPENDENCY_DISABLED', details: { missing: ['hello'] } });
      t.equal((await view(th, 'needs-hello')).sites['a.test']?.enabled, false, 'nothing changed');

      t.equal((await put(th, 'a.test', 'hello', { enabled: true })).status, 200);
      t.equal((await greeting(th, 'a.test')).status, 200, 'on for a.test at once');
      t.equal((await greeting(th, 'b.test')).status, 404, 'still off for b.test');
      t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@a.test', body: 'one' })).status, 200, 'SIP served for a.test');
      t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@b.test', body: 'two' })).status, 404, 'SIP not served for b.test');

      const badConfig = await put(th, 'a.test', 'hello', { config: { greeting: 5, colour: 'red' } });
      t.equal(badConfig.status, 400);
      const badBody = (await badConfig.json()) as { code: string; details: Array<{ instancePath: string }> };
      t.equal(badBody.code, 'CORE_ERR_PLUGIN_CONFIG_INVALID');
      t.ok(badBody.details.some((e) => e.instancePath === '/greeting'), 'ajv errors name the field');
      t.match(await (await greeting(th, 'a.test')).json(), { greeting: 'Hello' }, 'an invalid config changes nothing');
      const badRequest = await put(th, 'a.test', 'hello', { enabled: 'yes' });
      t.equal(badRequest.status, 400);
      t.match(await badRequest.json(), { code: 'CORE_ERR_REQUEST_INVALID' });

      t.equal((await put(th, 'a.test', 'hello', { config: { greeting: 'Hej <b>du</b>' } })).status, 200);
      t.match(await (await greeting(th, 'a.test')).json(), { greeting: 'Hej <b>du</b>' }, 'config applies to the next request');
      const slot = await (await fetch(`${th.url}/api/sites/a.test/ui/slots/home.widgets`)).text();
      t.match(slot, /<div data-plugin="hello" data-slot="home.widgets">/);
      t.match(slot, /Hej &lt;b&gt;du&lt;\/b&gt;, a\.test!/, 'fragment output is escaped');
      t.equal(await (await fetch(`${th.url}/api/sites/b.test/ui/slots/home.widgets`)).text(), '', 'no fragment where the plugin is off');

      t.equal((await put(th, 'a.test', 'needs-hello', { enabled: true })).status, 200);
      t.match(await (await fetch(`${th.url}/api/plugins/needs-hello/sites/a.test/relay`)).json(), { relayed: 'Hej <b>du</b>, a.test!' }, 'service from the dependency works');
      const disableDep = await put(th, 'a.test', 'hello', { enabled: false });
      t.equal(disableDep.status, 409, 'disabling a needed plugin is 409');
      t.match(await disableDep.json(), { code: 'CORE_ERR_DEPENDENTS_ENABLED', details: { dependents: ['needs-hello'] } });
      t.equal((await greeting(th, 'a.test')).status, 200, 'still on');

      t.match(await (await put(th, 'a.test', 'nope', { enabled: true })).json(), { code: 'CORE_ERR_PLUGIN_NOT_FOUND' });
      t.match(await (await put(th, 'zz.test', 'hello', { enabled: true })).json(), { code: 'CORE_ERR_SITE_NOT_FOUND' });

      // Restart on the same database: everything comes back as it was.
      await th.close();
      th = await boot();
      const hello = await view(th, 'hello');
      t.equal(hello.state, 'ready');
      t.same(hello.sites['a.test'], { enabled: true, config: { greeting: 'Hej <b>du</b>' } }, 'setting survives a restart');
      t.equal(hello.sites['b.test']?.enabled, false);
      t.equal((await view(th, 'needs-hello')).sites['a.test']?.enabled, true);
      t.match(await (await greeting(th, 'a.test')).json(), { greeting: 'Hej <b>du</b>' });
      const stored = (await (await fetch(`${th.url}/api/plugins/hello/sites/a.test/messages`)).json()) as { messages: Array<{ body: string }> };
      t.same(stored.messages.map((m) => m.body), ['one'], 'plugin data survives; migrations did not run twice');

      t.equal((await put(th, 'a.test', 'needs-hello', { enabled: false })).status, 200);
      t.equal((await put(th, 'a.test', 'hello', { enabled: false })).status, 200, 'disable once dependents are off');
      t.equal((await greeting(th, 'a.test')).status, 404, 'off at once');
      t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@a.test', body: 'three' })).status, 404, 'SIP off at once');
    });
  });
}

t.test('login is rate limited', async (t) => {
  const th = await createTestHost({ plugins: [], sites: ['a.test'], loginRateLimit: 3, sip: false });
  t.teardown(() => th.close());
  // createTestHost used one attempt; two more wrong ones exhaust the limit.
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${th.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: `wrong-${i}` }),
    });
    statuses.push(res.status);
    if (res.status === 429) t.match(await res.json(), { code: 'CORE_ERR_RATE_LIMITED' });
  }
  t.same(statuses, [401, 401, 429]);
});
