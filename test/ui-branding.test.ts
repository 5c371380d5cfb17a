// Per-site theme and branding: config, the admin API (validated, no CSS or URL injection),
// persistence across restarts on SQLite and MariaDB, and the generated colour stylesheet.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { BRANDING_SCHEMA, brandingCss } from '../core/src/ui/branding.ts';
import { CSS_COLOR_SCHEMA, isCssColor } from '../core/src/ui/css-color.ts';
import { admin, call } from './identity-helpers.ts';

const configSchema = JSON.parse(readFileSync(new URL('../config/schema.json', import.meta.url), 'utf8'));

t.test('config/schema.json carries the same colour and branding definitions as the API', async (t) => {
  t.same(configSchema.definitions.cssColor, JSON.parse(JSON.stringify(CSS_COLOR_SCHEMA)));
  const { description: _, ...branding } = configSchema.definitions.branding;
  t.same(branding, JSON.parse(JSON.stringify(BRANDING_SCHEMA)));
  t.same(configSchema.properties.sites.items.properties.branding, { $ref: '#/definitions/branding' });
  t.equal(configSchema.properties.sites.items.properties.theme.default, 'default');
});

t.test('only CSS colours pass, and only they reach the stylesheet', async (t) => {
  for (const good of ['#abc', '#abcd', '#a1b2c3', '#a1b2c3d4', 'rgb(1, 2, 3)', 'rgba(1,2,3,0.5)', 'hsl(120deg 50% 50%)', 'hsl(120 50% 50% / 40%)', 'rebeccapurple', 'transparent']) {
    t.ok(isCssColor(good), `${good} is a colour`);
  }
  for (const bad of ['red;}body{display:none', '#fff</style>', 'expression(alert(1))', 'url(javascript:alert(1))', 'rgb(1,2,3);x:y', 'notacolour', '#ggg', 'rgb(1,2,3)}', 'var(--x)', '', 'RED"']) {
    t.notOk(isCssColor(bad), `${JSON.stringify(bad)} is refused`);
  }
  const css = brandingCss({ colors: { primary: '#010203', text: 'red;}body{display:none' as string, link: 'navy' } });
  t.equal(css, ':root {\n  --sb-primary: #010203;\n  --sb-link: navy;\n}\n', 'an invalid value never reaches the CSS, even if it got past the schema');
  t.equal(brandingCss({}), '');
});

async function branding(th: TestHost, site: string) {
  return (await admin(th, 'GET', `/api/admin/sites/${site}/branding`)).body.appearance;
}

for (const storageUrl of storageUrlsForTests()) {
  t.test(`branding at runtime on ${storageUrl.split(':')[0]}`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const adminPassword = 'branding-admin-password';
      const config = { sites: [{ domain: 'a.test', name: 'Alpha', branding: { signInText: 'From the config', colors: { primary: '#00aa00' } } }, { domain: 'b.test' }] };
      let th = await createTestHost({ plugins: [], sites: ['a.test', 'b.test'], sip: false, storage: url, adminPassword, config });
      t.teardown(() => th.close());

      t.match(await branding(th, 'a.test'), { theme: 'default', themeSource: 'config', brandingSource: 'config', branding: { signInText: 'From the config' } });
      t.match(await (await fetch(`${th.url}/assets/sites/a.test/branding.css`)).text(), '--sb-primary: #00aa00;');

      const good = {
        theme: 'contrast',
        branding: {
          logo: 'https://cdn.a.test/logo.png',
          colors: { primary: 'rgb(10, 20, 30)', background: 'ivory' },
          signInText: 'Welcome to <Alpha> & co',
          helpUrl: 'https://help.a.test/',
          menu: [{ label: 'Wiki', url: '/wiki' }],
        },
      };
      const put = await admin(th, 'PUT', '/api/admin/sites/a.test/branding', good);
      t.equal(put.status, 200);
      t.match(put.body.appearance, { theme: 'contrast', themeSource: 'stored', brandingSource: 'stored', updatedBy: 'admin' });

      const refused: Array<[unknown, string]> = [
        [{ branding: { colors: { primary: 'red;} body { display: none' } } }, '/branding/colors/primary'],
        [{ branding: { colors: { text: '#fff</style><script>alert(1)</script>' } } }, '/branding/colors/text'],
        [{ branding: { colors: { link: 'url(javascript:alert(1))' } } }, '/branding/colors/link'],
        [{ branding: { colors: { shadow: '#000' } } }, '/branding/colors'],
        [{ branding: { logo: 'javascript:alert(1)' } }, '/branding/logo'],
        [{ branding: { logo: 'http://plain.example/logo.png' } }, '/branding/logo'],
        [{ branding: { helpUrl: '//evil.example/' } }, '/branding/helpUrl'],
        [{ branding: { helpUrl: 'https://x.example/" onmouseover="alert(1)' } }, '/branding/helpUrl'],
        [{ branding: { menu: [{ label: 'x', url: 'javascript:alert(1)' }] } }, '/branding/menu/0/url'],
        [{ branding: { menu: [{ label: '', url: '/ok' }] } }, '/branding/menu/0/label'],
        [{ theme: 'nosuch' }, '/theme'],
        [{ theme: '../default' }, '/theme'],
        [{ colour: 'red' }, ''],
        [{}, ''],
      ];
      for (const [body, path] of refused) {
        const res = await admin(th, 'PUT', '/api/admin/sites/a.test/branding', body);
        t.equal(res.status, 400, `${JSON.stringify(body)} refused`);
        t.equal(res.body.code, 'CORE_ERR_REQUEST_INVALID');
        if (path) t.ok((res.body.details as Array<{ instancePath: string }>).some((d) => d.instancePath === path), `the error names ${path}`);
      }
      t.match(await branding(th, 'a.test'), { theme: 'contrast', branding: good.branding }, 'refused changes changed nothing');
      const css = await (await fetch(`${th.url}/assets/sites/a.test/branding.css`)).text();
      t.equal(css, '', 'the contrast theme ignores branding colours');

      t.equal((await admin(th, 'PUT', '/api/admin/sites/nosuch.test/branding', { theme: 'default' })).status, 404);
      t.equal((await call(th.url, 'PUT', '/api/admin/sites/a.test/branding', { body: { theme: 'default' } })).status, 401, 'anonymous callers are refused');

      // A site-admin may brand their own site only.
      t.equal((await admin(th, 'POST', '/api/admin/sites/b.test/users', { username: 'bea', password: 'bea-password', role: 'site-admin' })).status, 201);
      const bea = (await call(th.url, 'POST', '/api/auth/login', { body: { username: 'bea', site: 'b.test', password: 'bea-password' } })).body.token as string;
      t.equal((await call(th.url, 'PUT', '/api/admin/sites/b.test/branding', { token: bea, body: { branding: { colors: { primary: '#b0b0b0' } } } })).status, 200);
      t.equal((await call(th.url, 'PUT', '/api/admin/sites/a.test/branding', { token: bea, body: { theme: 'default' } })).status, 403);
      t.equal((await call(th.url, 'GET', '/api/admin/sites/a.test/branding', { token: bea })).status, 403);

      let page = await (await fetch(`${th.url}/admin?site=a.test`)).text();
      t.match(page, /data-theme="contrast"/);
      t.match(page, '<p class="sb-sign-in-text">Welcome to &lt;Alpha&gt; &amp; co</p>');
      t.match(page, '<img class="sb-logo" src="https://cdn.a.test/logo.png" alt="">');

      // Survives a restart: the same database, a new host.
      await th.close();
      th = await createTestHost({ plugins: [], sites: ['a.test', 'b.test'], sip: false, storage: url, adminPassword, config });
      t.match(await branding(th, 'a.test'), { theme: 'contrast', themeSource: 'stored', branding: good.branding, updatedBy: 'admin' }, 'kept across a restart');
      t.match(await (await fetch(`${th.url}/assets/sites/b.test/branding.css`)).text(), '--sb-primary: #b0b0b0;');
      page = await (await fetch(`${th.url}/admin?site=a.test`)).text();
      t.match(page, /data-theme="contrast"/);

      t.equal((await admin(th, 'DELETE', '/api/admin/sites/a.test/branding')).status, 200);
      t.match(await branding(th, 'a.test'), { theme: 'default', themeSource: 'config', brandingSource: 'config', branding: { signInText: 'From the config' } }, 'reset to the config');

      // Sites added through the API: theme from the site record, live at once; deleting the site forgets its branding.
      t.equal((await admin(th, 'POST', '/api/admin/sites', { domain: 'n.test', theme: 'contrast' })).status, 201);
      t.match(await branding(th, 'n.test'), { theme: 'contrast', themeSource: 'site' });
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/n.test', { theme: 'default' })).status, 200);
      t.match(await branding(th, 'n.test'), { theme: 'default', themeSource: 'site' });
      t.equal((await admin(th, 'PUT', '/api/admin/sites/n.test/branding', { branding: { signInText: 'n' } })).status, 200);
      t.equal((await admin(th, 'DELETE', '/api/admin/sites/n.test')).status, 204);
      t.equal((await admin(th, 'POST', '/api/admin/sites', { domain: 'n.test' })).status, 201);
      t.match(await branding(th, 'n.test'), { theme: 'default', themeSource: 'default', brandingSource: 'default', branding: {} }, 'a new site of the same name starts clean');
    });
  });
}
