// Sign-in (token and cookie), the caller's own account, and roles: every
// /api/admin route, enumerated from the host's own route list, refuses a
// site-admin of another site, a plain user and an anonymous caller — so a
// route added later is covered without touching this test.
import t from 'tap';
import pino from 'pino';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { createHttpServer } from '../core/src/http/server.ts';
import { installRoleGuard } from '../core/src/http/role-guard.ts';
import { admin, call, DIRECTORY_WATCH, signIn, tokenFor } from './identity-helpers.ts';

interface RouteEntry { method: string; url: string; role: string; siteFiltered: boolean }

const concrete = (url: string) => url
  .replace(':site', 'a.test').replace(':username', 'alice').replace(':id', 'directory-watch').replace(/:[A-Za-z]+/g, 'x').replace('*', 'x');

async function seed(th: TestHost): Promise<void> {
  for (const [site, username, role] of [['a.test', 'alice', 'site-admin'], ['a.test', 'amy', 'user'], ['b.test', 'bob', 'site-admin']] as const) {
    const res = await admin(th, 'POST', `/api/admin/sites/${site}/users`, { username, password: `${username}-password`, role });
    if (res.status !== 201) throw new Error(`seed ${username}: ${res.status}`);
  }
}

for (const storageUrl of storageUrlsForTests()) {
  t.test(`sign-in and roles (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({ plugins: [DIRECTORY_WATCH], sites: ['a.test', 'b.test'], storage: url, sip: false });
      t.teardown(() => th.close());
      await seed(th);

      // Sign-in forms and the cookie.
      const login = await signIn(th.url, 'alice@a.test', 'alice-password');
      t.equal(login.status, 200);
      t.match(login.body, { token: /\S+\.\S+/, role: 'site-admin', site: 'a.test' });
      const cookie = login.headers.get('set-cookie') ?? '';
      t.match(cookie, /^sb_session=[^;]+; /, 'session cookie set');
      t.match(cookie, /; HttpOnly/, 'HttpOnly');
      t.match(cookie, /; SameSite=(Lax|Strict)/, 'SameSite');
      t.notMatch(cookie, /Secure/, 'not Secure over plain http');
      t.equal((await signIn(th.url, 'alice', 'alice-password', 'a.test')).status, 200, 'username + site');
      t.equal((await signIn(th.url, 'alice@a.test', 'alice-password', 'b.test')).status, 401, 'site must agree with the username');
      t.equal((await signIn(th.url, 'alice@b.test', 'alice-password')).status, 401, 'users belong to one site');
      t.equal((await signIn(th.url, 'alice@a.test', 'wrong-password')).body.code, 'CORE_ERR_AUTH_INVALID');
      t.equal((await call(th.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'x', extra: true } })).status, 400);

      const sessionCookie = cookie.split(';')[0]!;
      t.equal((await admin(th, 'PUT', '/api/admin/sites/a.test/plugins/directory-watch', { enabled: true })).status, 200);
      const whoami = await call(th.url, 'GET', '/api/plugins/directory-watch/sites/a.test/whoami', { cookie: sessionCookie });
      t.same(whoami.body, { user: { username: 'alice@a.test', role: 'site-admin' } }, 'plugin routes see the cookie session');
      const me = await call(th.url, 'GET', '/api/me', { cookie: sessionCookie });
      t.equal(me.status, 200, 'the cookie authenticates');
      t.match(me.body, { username: 'alice', site: 'a.test', role: 'site-admin', sipUri: 'sip:alice@a.test' });
      t.match((await call(th.url, 'GET', '/api/me', { token: th.adminToken })).body, { username: 'admin', role: 'admin' });
      t.equal((await call(th.url, 'GET', '/api/me')).status, 401);
      t.equal((await call(th.url, 'GET', '/api/me', { cookie: 'sb_session=forged.value' })).status, 401, 'a forged cookie is refused');

      // Logout revokes the token in both its forms.
      const out = await call(th.url, 'POST', '/api/auth/logout', { cookie: sessionCookie });
      t.equal(out.status, 204);
      t.match(out.headers.get('set-cookie') ?? '', /sb_session=; .*Max-Age=0/, 'cookie cleared');
      t.equal((await call(th.url, 'GET', '/api/me', { cookie: sessionCookie })).status, 401, 'cookie dead after logout');
      t.equal((await call(th.url, 'GET', '/api/me', { token: login.body.token })).status, 401, 'same token as Bearer dead too');

      // Own password change.
      const amy = await tokenFor(th.url, 'amy@a.test', 'amy-password');
      const wrongOld = await call(th.url, 'POST', '/api/me/password', { token: amy, body: { oldPassword: 'nope-nope', newPassword: 'amy-new-password' } });
      t.equal(wrongOld.status, 403);
      t.equal(wrongOld.body.code, 'CORE_ERR_PASSWORD_WRONG');
      t.equal((await call(th.url, 'POST', '/api/me/password', { token: amy, body: { oldPassword: 'amy-password', newPassword: 'short' } })).status, 400);
      t.equal((await call(th.url, 'POST', '/api/me/password', { token: amy, body: { oldPassword: 'amy-password', newPassword: 'amy-new-password' } })).status, 204);
      t.equal((await signIn(th.url, 'amy@a.test', 'amy-password')).status, 401, 'old password gone');
      t.equal((await signIn(th.url, 'amy@a.test', 'amy-new-password')).status, 200, 'new password works');

      // Every admin route, from the host's own list.
      const listed = await admin<{ routes: RouteEntry[] }>(th, 'GET', '/api/admin/routes');
      const adminRoutes = listed.body.routes.filter((r) => r.url.startsWith('/api/admin/'));
      t.ok(adminRoutes.length >= 15, `the route list has the admin routes (${adminRoutes.length})`);
      for (const must of ['POST /api/admin/sites', 'PUT /api/admin/sites/:site/plugins/:id', 'POST /api/admin/sites/:site/users/import', 'GET /api/admin/plugins']) {
        t.ok(adminRoutes.some((r) => `${r.method} ${r.url}` === must), `${must} is listed`);
      }
      const bob = await tokenFor(th.url, 'bob@b.test', 'bob-password');
      const amyToken = await tokenFor(th.url, 'amy@a.test', 'amy-new-password');
      for (const route of adminRoutes) {
        const path = concrete(route.url);
        const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
        const asBob = await call(th.url, route.method, path, { token: bob, ...(body ? { body } : {}) });
        if (route.siteFiltered && !route.url.includes(':site')) {
          t.equal(asBob.status, 200, `${route.method} ${route.url}: site-admin of b.test gets its own view`);
          t.notMatch(JSON.stringify(asBob.body), /a\.test/, `${route.method} ${route.url}: nothing about a.test leaks`);
        } else {
          t.equal(asBob.status, 403, `${route.method} ${route.url}: site-admin of b.test is refused`);
        }
        t.equal((await call(th.url, route.method, path, { token: amyToken, ...(body ? { body } : {}) })).status, 403, `${route.method} ${route.url}: a plain user is refused`);
        t.equal((await call(th.url, route.method, path, body ? { body } : {})).status, 401, `${route.method} ${route.url}: anonymous is refused`);
      }
      t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users/alice')).status, 200, 'nothing above changed alice');

      // What a site-admin may do on its own site.
      const alice = await tokenFor(th.url, 'alice@a.test', 'alice-password');
      const own = await call(th.url, 'POST', '/api/admin/sites/a.test/users', { token: alice, body: { username: 'anne', password: 'anne-password' } });
      t.equal(own.status, 201, 'site-admin creates users on its site');
      t.equal((await call(th.url, 'PUT', '/api/admin/sites/a.test/plugins/directory-watch', { token: alice, body: { enabled: false } })).status, 200, 'and toggles its plugins');
      const plugins = await call(th.url, 'GET', '/api/admin/plugins', { token: alice });
      t.same(Object.keys(plugins.body.plugins.find((p: { id: string }) => p.id === 'directory-watch').sites), ['a.test'], 'plugin list filtered to its site');
      t.same((await call(th.url, 'GET', '/api/admin/sites', { token: alice })).body.sites.map((s: { domain: string }) => s.domain), ['a.test']);
      t.same(Object.keys((await admin(th, 'GET', '/api/admin/plugins')).body.plugins.find((p: { id: string }) => p.id === 'directory-watch').sites).sort(), ['a.test', 'b.test'], 'host admin sees all sites');

      // Role and state are read on every request, not frozen in the token.
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/a.test/users/alice', { role: 'user' })).status, 200);
      t.equal((await call(th.url, 'GET', '/api/admin/sites/a.test/users', { token: alice })).status, 403, 'demotion applies at once');
      t.equal((await admin(th, 'PATCH', '/api/admin/sites/a.test/users/alice', { enabled: false })).status, 200);
      t.equal((await call(th.url, 'GET', '/api/me', { token: alice })).status, 401, 'disabling ends the session');
      t.equal((await admin(th, 'DELETE', '/api/admin/sites/a.test/users/amy')).status, 204);
      t.equal((await call(th.url, 'GET', '/api/me', { token: amyToken })).status, 401, 'deleting ends the session');
    });
  });
}

t.test('a route without a declared role fails at registration', async (t) => {
  const log = pino({ level: 'silent' });
  const open = createHttpServer({ log });
  installRoleGuard(open, { resolve: async () => undefined });
  t.throws(() => open.get('/api/oops', async () => 'open by accident'), { code: 'CORE_ERR_ROUTE_ROLE_MISSING' }, 'throws where it is registered');
  // Inside a plugin (how most routes arrive) the same failure stops the server from starting.
  open.register(async (scope) => {
    scope.post('/api/admin/oops', async () => 'open by accident');
  });
  await t.rejects(async () => {
    await open.ready();
  }, { code: 'CORE_ERR_ROUTE_ROLE_MISSING' });

  const unscoped = createHttpServer({ log });
  installRoleGuard(unscoped, { resolve: async () => undefined });
  t.throws(() => unscoped.get('/api/admin/everything', { config: { role: 'site-admin' } }, async () => 'all sites'),
    { code: 'CORE_ERR_ROUTE_ROLE_MISSING' }, 'a site-admin route needs :site or siteFiltered');

  const fine = createHttpServer({ log });
  installRoleGuard(fine, { resolve: async () => undefined });
  fine.get('/api/fine', { config: { role: 'public' } }, async () => 'ok');
  fine.get('/api/admin/sites/:site/fine', { config: { role: 'site-admin' } }, async () => 'ok');
  await fine.ready();
  t.equal((await fine.inject({ url: '/api/fine' })).statusCode, 200);
  t.equal((await fine.inject({ url: '/api/admin/sites/a.test/fine' })).statusCode, 401);
  await Promise.all([unscoped.close(), fine.close()]);
});
