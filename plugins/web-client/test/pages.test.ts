/**
 * The web client's pages over HTTP (no browser): who gets the client and
 * who is sent to sign in, bad input refused with a coded answer, values in
 * the pages escaped, the site's config reaching the page, and the plugin
 * off for a site.
 */
import t from 'tap';
import { D, clientHost, userApi } from './client-session.ts';

t.test('client and sign-in pages', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${host.url}${path}`, { redirect: 'manual', headers });

  let res = await get(`/client/${D}/`);
  t.equal(res.status, 303, 'a visitor is sent to sign in');
  t.equal(res.headers.get('location'), `/client/${D}/sign-in`);
  res = await get(`/client/${D}`);
  t.equal(res.status, 301);
  t.equal(res.headers.get('location'), `/client/${D}/`);

  res = await get(`/client/${D}/sign-in`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  t.match(res.headers.get('content-security-policy'), /script-src 'self'/, 'the host CSP covers the page');
  const signIn = await res.text();
  t.match(signIn, '<script type="module" src="/assets/plugins/web-client/sign-in.js"></script>');
  t.notMatch(signIn, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  t.notMatch(signIn, /\sstyle=|\son[a-z]+=/i, 'no inline style or handler attributes');
  t.match(signIn, /<label for="wc-username">/);

  const bad = await get(`/client/${D}/sign-in?reason=<b>`);
  t.equal(bad.status, 400, 'an unknown reason is refused');
  t.equal((await bad.json()).code, 'CORE_ERR_REQUEST_INVALID');
  t.equal((await get('/client/nosuch.test/')).status, 404, 'an unknown site');

  const alice = await userApi(host, 'alice');
  const cookie = `sb_session=${alice.token}`;
  res = await get(`/client/${D}/`, { cookie });
  t.equal(res.status, 200, 'a signed-in user of the site gets the client');
  const shell = await res.text();
  t.match(shell, 'data-wc-shell data-site="example.test" data-username="alice"');
  t.match(shell, '<script type="module" src="/assets/plugins/web-client/client.js"></script>');
  t.match(shell, /data-plugin="presence" data-slot="presence.contact-list"/, 'presence fragments are composed in');
  t.match(shell, /data-plugin="im" data-slot="web.conversation-window"/, 'IM fragments are composed in');
  t.match(shell, 'data-client-script="/assets/plugins/im/im.js"');
  t.notMatch(shell, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  t.equal(res.headers.get('cache-control'), 'no-store');
  for (const asset of ['web-client/client.js', 'web-client/live-channel.js', 'presence/presence.js', 'im/im.js', 'im/im.css']) {
    const a = await get(`/assets/plugins/${asset}`);
    t.equal(a.status, 200, `${asset} is served`);
  }

  // The site's title reaches the page, escaped.
  const put = await host.adminFetch(`/api/admin/sites/${D}/plugins/web-client`, { method: 'PUT', body: JSON.stringify({ enabled: true, config: { title: 'Chat <script>alert(1)</script> & co' } }) });
  t.equal(put.status, 200);
  const titled = await (await get(`/client/${D}/`, { cookie })).text();
  t.match(titled, 'Chat &#60;script&#62;alert(1)&#60;/script&#62; &#38; co');
  t.notMatch(titled, '<script>alert(1)</script>');
  const refused = await host.adminFetch(`/api/admin/sites/${D}/plugins/web-client`, { method: 'PUT', body: JSON.stringify({ enabled: true, config: { title: '' } }) });
  t.equal(refused.status, 400, 'an empty title is refused by the config schema');

  // A user of another site, or a host admin, is not a user of this site's client.
  res = await get(`/client/${D}/`, { cookie: `sb_session=${host.adminToken}` });
  t.equal(res.status, 303, 'a host admin is sent to sign in as a user');

  const off = await host.adminFetch(`/api/admin/sites/${D}/plugins/web-client`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200);
  res = await get(`/client/${D}/`, { cookie, accept: 'application/json' });
  t.equal(res.status, 404);
  t.equal((await res.json()).code, 'CORE_ERR_PLUGIN_NOT_ENABLED', 'off for the site: the core answers before the plugin');
  t.equal((await get('/assets/plugins/web-client/client.js')).status, 200, 'assets stay (shared by every site)');
});
