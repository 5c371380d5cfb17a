/**
 * The top of the server for browsers: GET / sends a user to the client
 * plugin enabled for the site the Host header names (or the only site),
 * and core errors met while loading a page come back as a themed HTML page
 * with the same code, while API callers keep getting JSON.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/entry/', import.meta.url));

/** GET with a chosen Host header (fetch does not allow setting it). */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const html = { accept: 'text/html,application/xhtml+xml' };

t.test('entry page and HTML errors', async (t) => {
  const host = await createTestHost({ plugins: [`${fixtures}client-app`, `${fixtures}bad-entry`], sites: ['a.test', 'b.test'] });
  t.teardown(() => host.close());

  t.test('an entry outside the plugin prefix is refused at load', async (t) => {
    const { plugins } = (await (await host.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; state: string; error?: string }> };
    const bad = plugins.find((p) => p.id === 'bad-entry');
    t.equal(bad?.state, 'failed');
    t.match(bad?.error, /ui\/entry "\/api\/admin\/" must start with the plugin's prefix \/bad/);
  });

  t.test('GET / redirects to the client of the site the Host header names', async (t) => {
    const a = await get(host.url, '/', { ...html, host: 'a.test' });
    t.equal(a.status, 302);
    t.equal(a.headers.location, '/app/a.test/');
    const b = await get(host.url, '/', { ...html, host: 'B.TEST:8080' });
    t.equal(b.headers.location, '/app/b.test/', 'case and port do not matter');
    const q = await get(host.url, '/?site=b.test', { ...html, host: '127.0.0.1' });
    t.equal(q.headers.location, '/app/b.test/', '?site= picks the site');
    const page = await get(host.url, '/app/a.test/', html);
    t.equal(page.status, 200);
    t.match(page.body, /id="client-app"/);
  });

  t.test('several sites and an address naming none: a page that says what to do', async (t) => {
    const res = await get(host.url, '/', { ...html, host: '127.0.0.1' });
    t.equal(res.status, 404);
    t.match(String(res.headers['content-type']), /text\/html/);
    t.match(res.body, /Which site\?/);
    t.match(res.body, /\?site=/);
    t.notMatch(res.body, /a\.test|b\.test/, 'does not list the sites to strangers');
  });

  t.test('no client enabled for the site: a themed 404 with the code', async (t) => {
    t.equal((await host.adminFetch('/api/admin/sites/b.test/plugins/client-app', { method: 'PUT', body: JSON.stringify({ enabled: false }) })).status, 200);
    const res = await get(host.url, '/', { ...html, host: 'b.test' });
    t.equal(res.status, 404);
    t.match(res.body, /CORE_ERR_NO_CLIENT_ENABLED/);
    t.match(res.body, /<html/);
    t.equal((await get(host.url, '/', { ...html, host: 'a.test' })).status, 302, 'the other site still gets its client');
  });

  t.test('a disabled plugin page: HTML for browsers, JSON for API callers', async (t) => {
    const browser = await get(host.url, '/app/b.test/', html);
    t.equal(browser.status, 404);
    t.match(String(browser.headers['content-type']), /text\/html/);
    t.match(browser.body, /CORE_ERR_PLUGIN_NOT_ENABLED/);
    t.match(browser.body, /not enabled for this site/);
    const api = await get(host.url, '/app/b.test/', { accept: 'application/json' });
    t.equal(api.status, 404);
    t.equal((JSON.parse(api.body) as { code: string }).code, 'CORE_ERR_PLUGIN_NOT_ENABLED');
    const apiRoute = await get(host.url, '/api/nope', html);
    t.match(String(apiRoute.headers['content-type']), /json/, 'API paths answer JSON even to a browser');
    const unknown = await get(host.url, '/no/such/page', html);
    t.equal(unknown.status, 404);
    t.match(unknown.body, /CORE_ERR_ROUTE_NOT_FOUND/);
    t.notMatch(unknown.body, /<script>/, 'no inline script in the error page');
  });

  t.test('the only site needs no Host header', async (t) => {
    const single = await createTestHost({ plugins: [`${fixtures}client-app`], sites: ['solo.test'] });
    t.teardown(() => single.close());
    t.equal((await get(single.url, '/', { ...html, host: '127.0.0.1' })).headers.location, '/app/solo.test/');
  });
});
