// Pages composed by ctx.ui.page in a site's theme, static assets, and the Content-Security-Policy, over real HTTP.
import t from 'tap';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { admin } from './identity-helpers.ts';
import { makeUiFixtures, rawGet, type UiFixtures } from './ui-helpers.ts';

let fixtures: UiFixtures;
let th: TestHost;

t.before(async () => {
  fixtures = await makeUiFixtures();
  th = await createTestHost({
    plugins: fixtures.plugins,
    sites: ['a.test', 'c.test'],
    sip: false,
    config: {
      sites: [
        { domain: 'a.test', name: 'Site <A>', branding: { colors: { primary: '#123456' }, menu: [{ label: 'Intranet & more', url: 'https://intra.a.test/' }], helpUrl: '/help' } },
        { domain: 'c.test', theme: 'contrast', branding: { colors: { primary: '#123456' } } },
      ],
    },
  });
});
t.teardown(async () => {
  await th?.close();
  await fixtures?.remove();
});

const page = (site: string, query = '') => fetch(`${th.url}/api/plugins/uishell/sites/${site}/page${query}`);

function region(html: string, name: string): string {
  const m = new RegExp(`<[a-z]+ [^>]*data-region="${name}"[^>]*>([\\s\\S]*?)</(aside|main|header|footer|nav)>`).exec(html);
  return m?.[1] ?? '';
}

t.test('a page is the site theme layout with every enabled plugin fragment, each marked with plugin and slot', async (t) => {
  const res = await page('a.test');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  t.match(html, /<html lang="en" data-theme="default" data-layout="app">/);
  t.match(html, /<a class="sb-skip-link" href="#sb-main">Skip to main content<\/a>/, 'skip link first');
  t.match(html, /<main id="sb-main"/);
  t.match(html, '<title>Demo &lt;page&gt; · Site &lt;A&gt;</title>', 'title and site name escaped');
  t.match(region(html, 'sidebar'), /<div data-plugin="uishell" data-slot="sidebar"><p class="uishell-side">Hello &lt;i&gt;Al&lt;\/i&gt; on a.test<\/p><\/div>/, 'page data escaped in fragments');
  t.match(region(html, 'sidebar'), /data-plugin="uishell" data-slot="presence.contact-list"/, 'the theme maps presence.contact-list to the sidebar');
  t.match(region(html, 'main'), /<p id="uishell-main">main content<\/p>[\s\S]*data-plugin="uiextra" data-slot="main"[\s\S]*Hi from extra/, 'trusted main first, then main fragments with their config');
  t.match(region(html, 'aside'), /data-plugin="uiextra" data-slot="uiextra.widget"/, 'a slot the theme does not place lands in the fallback region');
  t.match(html, /<link rel="stylesheet" href="\/assets\/themes\/default\/theme.css">/);
  t.match(html, /<link rel="stylesheet" href="\/assets\/sites\/a.test\/branding.css\?v(=|&#x3D;)[A-Za-z0-9_-]+">/, 'colour stylesheet, versioned (handlebars writes = as &#x3D;, which browsers read as =)');
  t.match(html, /<script type="module" src="\/assets\/plugins\/uishell\/app.js"><\/script>/);
  t.notMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
  t.notMatch(html, /\sstyle=|<style/, 'no inline style');
  t.match(html, '<a href="https://intra.a.test/">Intranet &amp; more</a>', 'branding menu escaped');
  t.match(html, '<a href="/help" rel="help">Help</a>');
  t.equal((html.match(/data-plugin="uiextra" data-slot="uiextra.widget"/g) ?? []).length, 1, 'each fragment once');
  t.notMatch(html, /data-slot="plain.main"/, 'a slot the plain layout names stays off app pages');
});

t.test('every HTML response carries a strict Content-Security-Policy', async (t) => {
  for (const path of ['/api/plugins/uishell/sites/a.test/page', '/admin']) {
    const res = await fetch(`${th.url}${path}`);
    const csp = res.headers.get('content-security-policy') ?? '';
    t.match(csp, /(^|;)\s*script-src 'self'(;|$)/, `${path}: scripts from self only`);
    t.match(csp, /(^|;)\s*style-src 'self'(;|$)/, `${path}: styles from self only`);
    t.match(csp, /script-src-attr 'none'/);
    t.match(csp, /default-src 'self'/);
    t.notMatch(csp, /unsafe-inline|unsafe-eval|https:\/\/cdn/, 'nothing inline, no CDN');
    t.match(csp, /frame-ancestors 'none'/);
  }
});

t.test('turning a plugin off for a site removes its fragments from the next page, without a restart', async (t) => {
  t.equal((await admin(th, 'PUT', '/api/admin/sites/a.test/plugins/uiextra', { enabled: false })).status, 200);
  const html = await (await page('a.test')).text();
  t.notMatch(html, /data-plugin="uiextra"/);
  t.match(html, /data-plugin="uishell"/);
  t.match(await (await page('c.test')).text(), /data-plugin="uiextra"/, 'the other site keeps it');
  t.equal((await admin(th, 'PUT', '/api/admin/sites/a.test/plugins/uiextra', { enabled: true })).status, 200);
  t.match(await (await page('a.test')).text(), /data-plugin="uiextra" data-slot="main"/, 'back on the next load');
});

t.test('plain layout shows the sign-in text of the branding', async (t) => {
  t.equal((await admin(th, 'PUT', '/api/admin/sites/a.test/branding', { branding: { signInText: 'Use your <b>badge</b> number', logo: '/assets/plugins/uishell/img/dot.svg' } })).status, 200);
  const html = await (await page('a.test', '?layout=plain')).text();
  t.match(html, /data-layout="plain"/);
  t.match(html, '<p class="sb-sign-in-text">Use your &lt;b&gt;badge&lt;/b&gt; number</p>');
  t.match(html, '<img class="sb-logo" src="/assets/plugins/uishell/img/dot.svg" alt="">');
  t.notMatch(html, /branding.css/, 'no colours stored now: no colour stylesheet');
  t.notMatch(html, /data-slot="(sidebar|main|presence\.contact-list|uiextra\.widget)"/, 'a plain page draws no client regions');
  t.match(html, /<div data-plugin="uiextra" data-slot="plain.main"><p class="uiextra-plain">on plain pages<\/p><\/div>/, 'only slots meant for plain pages');
  t.equal((await admin(th, 'DELETE', '/api/admin/sites/a.test/branding')).status, 200);
  t.match(await (await page('a.test')).text(), /branding.css\?v/, 'config branding back');
});

t.test('a site on the contrast theme gets its layout and stylesheet, without branding colours', async (t) => {
  const html = await (await page('c.test')).text();
  t.match(html, /data-theme="contrast"/);
  t.match(html, /href="\/assets\/themes\/contrast\/theme.css"/);
  t.notMatch(html, /branding.css/, 'the contrast theme keeps its own colours');
  const css = await fetch(`${th.url}/assets/themes/contrast/theme.css`);
  t.equal(css.status, 200);
  t.match(await css.text(), /--sb-background: #000000/);
});

t.test('a page script from another origin is a plugin bug: ctx.ui.page throws, the host answers with a coded error', async (t) => {
  const res = await page('a.test', `?script=${encodeURIComponent('https://cdn.example/x.js')}`);
  t.equal(res.status, 500);
  t.match(await res.json(), { code: 'CORE_ERR_HANDLER_FAILED' });
  const ok = await page('a.test');
  t.equal(ok.status, 200, 'the next page renders');
});

t.test('plugin assets: served with type and caching headers, only inside the folder, only while active', async (t) => {
  const js = await fetch(`${th.url}/assets/plugins/uishell/app.js`);
  t.equal(js.status, 200);
  t.match(js.headers.get('content-type'), /javascript/);
  t.match(js.headers.get('cache-control'), /max-age=\d+/);
  const etag = js.headers.get('etag');
  t.ok(etag, 'ETag');
  t.match(await js.text(), /uishell/);
  // Raw request: fetch turns a conditional request into Cache-Control: no-cache, which always gets the full file.
  t.equal((await rawGet(th.url, '/assets/plugins/uishell/app.js', { 'if-none-match': etag! })).status, 304, 'revalidation');
  t.match((await fetch(`${th.url}/assets/plugins/uishell/app.css`)).headers.get('content-type'), /^text\/css/);
  t.match((await fetch(`${th.url}/assets/plugins/uishell/img/dot.svg`)).headers.get('content-type'), /^image\/svg\+xml/);
  for (const path of [
    '/assets/plugins/uishell/../uishell/plugin.json',
    '/assets/plugins/uishell/%2e%2e/plugin.json',
    '/assets/plugins/uishell/..%2fplugin.json',
    '/assets/plugins/uishell/img/..%2f..%2fsecret.txt',
    '/assets/plugins/uishell/leak.txt',
    '/assets/plugins/uishell/.secret',
    '/assets/plugins/uishell/img',
    '/assets/plugins/uishell/missing.js',
    '/assets/plugins/uibroken/app.js',
    '/assets/plugins/nosuch/app.js',
    '/assets/themes/default/../default/theme.json',
    '/assets/themes/default/%2e%2e/theme.json',
    '/assets/themes/default/%2e%2e/app.hbs',
    '/assets/themes/nosuch/theme.css',
    '/assets/core/%2e%2e/%2e%2e/package.json',
  ]) {
    const res = await rawGet(th.url, path);
    t.equal(res.status, 404, `${path} is 404`);
    t.notMatch(res.body, /outside the assets folder|hidden|"switchboard"|"engines"/, `${path} leaks nothing`);
  }
  t.match(JSON.parse((await rawGet(th.url, '/assets/plugins/uibroken/app.js')).body), { code: 'CORE_ERR_ROUTE_NOT_FOUND' });
  t.equal(th.host.plugin('uibroken')?.active, false, 'the broken plugin is not active');
});

t.test('the admin console page loads its code from /assets/core', async (t) => {
  const res = await fetch(`${th.url}/admin`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('cache-control'), 'no-store');
  const html = await res.text();
  t.match(html, '<script type="module" src="/assets/core/admin/app.js"></script>');
  t.match(html, '<link rel="stylesheet" href="/assets/core/admin/admin.css">');
  const js = await fetch(`${th.url}/assets/core/admin/app.js`);
  t.equal(js.status, 200);
  t.match(js.headers.get('content-type'), /javascript/);
  t.match(await (await fetch(`${th.url}/admin?site=c.test`)).text(), /data-theme="contrast"/, 'drawn with a site theme on request');
  const slash = await fetch(`${th.url}/admin/`, { redirect: 'manual' });
  t.equal(slash.status, 301);
  t.equal(slash.headers.get('location'), '/admin');
});
