// Issue 7, web client end to end, the session side: sign-in refused with a
// visible reason, the site's branding (sign-in text) and the contrast theme,
// sign-out, a session ended elsewhere, and a revoked session meeting the
// live channel's 4401. Debian's Chromium through playwright-core; no console
// errors or CSP violations. Screenshots: test/artifacts/screenshots/client-*.png.
import t from 'tap';
import type { Browser, WebSocketRoute } from 'playwright-core';
import { launchBrowser, newContext, screenshot } from './helpers/browser.ts';
import { D, UI_TIMEOUT, clientHost, consoleErrors, cspViolations, failedLoads, signIn, watchPages } from '../plugins/web-client/test/client-session.ts';

let browser: Browser;
t.before(async () => { browser = await launchBrowser(); });
t.teardown(() => browser?.close());

t.test('sign-in refuses a wrong password with a visible reason and stays put', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const a = await newContext(browser, { viewport: { width: 390, height: 844 } });
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  await a.page.goto(`${host.url}/client/${D}/sign-in`);
  await a.page.getByLabel('User name').fill('alice');
  await a.page.getByLabel('Password').fill('not-her-password');
  await a.page.getByRole('button', { name: 'Sign in' }).click();
  await a.page.getByRole('alert').filter({ hasText: 'The user name or password is wrong.' }).waitFor({ timeout: UI_TIMEOUT });
  t.equal(new URL(a.page.url()).pathname, `/client/${D}/sign-in`);
  await screenshot(a.page, 'client-phone-sign-in-refused');
  const shell = await a.page.goto(`${host.url}/client/${D}/`);
  t.equal(new URL(a.page.url()).pathname, `/client/${D}/sign-in`, 'the client sends a signed-out visitor to sign in');
  t.equal(shell?.status(), 200);
  t.same(failedLoads(a.page), ['401 POST /api/auth/login'], 'the refused sign-in is the one failed request');
  t.same(consoleErrors(a.page, ['/api/auth/login']), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('site branding and the contrast theme: the sign-in text, the client drawn in contrast, sign-out', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const brand = await host.adminFetch(`/api/admin/sites/${D}/branding`, { method: 'PUT', body: JSON.stringify({ theme: 'contrast', branding: { signInText: 'Welcome to Example Corp. Use your desk phone password.' } }) });
  t.equal(brand.status, 200, 'the admin API set the theme and the sign-in text');
  const a = await newContext(browser, { viewport: { width: 390, height: 844 } });
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  await a.page.goto(`${host.url}/client/${D}/sign-in`);
  t.equal(await a.page.locator('html').getAttribute('data-theme'), 'contrast');
  await a.page.getByText('Welcome to Example Corp. Use your desk phone password.').waitFor({ timeout: UI_TIMEOUT });
  await screenshot(a.page, 'client-contrast-sign-in');
  await signIn(a.page, host, 'alice');
  t.equal(await a.page.locator('html').getAttribute('data-theme'), 'contrast', 'the client uses the site theme');
  t.ok(await a.page.locator('[data-plugin="presence"][data-slot="presence.contact-list"]').isVisible());
  await screenshot(a.page, 'client-contrast-phone');
  // Keyboard only: Tab reaches the status picker's controls, each with a visible label.
  const unlabeled = await a.page.evaluate(() => [...document.querySelectorAll('input:not([type="hidden"]), select, textarea')]
    .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.id || el.getAttribute('name')));
  t.same(unlabeled, [], 'every form control has a label');

  await a.page.getByRole('button', { name: 'Sign out' }).click();
  await a.page.waitForURL(`${host.url}/client/${D}/sign-in?reason=signed-out`, { timeout: UI_TIMEOUT });
  await a.page.getByText('You are signed out.').waitFor({ timeout: UI_TIMEOUT });
  await a.page.goto(`${host.url}/client/${D}/`);
  t.equal(new URL(a.page.url()).pathname, `/client/${D}/sign-in`, 'signed out for real: the client asks to sign in again');
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('a session ended elsewhere: the next request takes the user to sign in, saying why', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  await signIn(a.page, host, 'alice');
  const session = (await a.context.cookies()).find((c) => c.name === 'sb_session');
  t.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  // Signed out from another tab or by an API client holding the same token.
  const out = await fetch(`${host.url}/api/auth/logout`, { method: 'POST', headers: { cookie: `sb_session=${session!.value}` } });
  t.equal(out.status, 204);
  await a.page.getByLabel('Status', { exact: true }).selectOption('away');
  await a.page.getByRole('button', { name: 'Set status' }).click();
  await a.page.waitForURL(`${host.url}/client/${D}/sign-in?reason=expired`, { timeout: UI_TIMEOUT });
  await a.page.getByText('Your session ended; sign in again.').waitFor({ timeout: UI_TIMEOUT });
  t.pass('the refused request led to the sign-in page');
  t.same(consoleErrors(a.page, [`/api/plugins/presence/sites/${D}/me`]), [], 'no console errors besides the refused request');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('a revoked session on reconnect: the server closes with 4401 and the client goes to sign in instead of retrying', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  const open: WebSocketRoute[] = [];
  let connections = 0;
  await a.page.routeWebSocket(/\/api\/live$/, (ws) => {
    connections++;
    ws.connectToServer();
    open.push(ws);
  });
  await signIn(a.page, host, 'alice');
  const session = (await a.context.cookies()).find((c) => c.name === 'sb_session');
  t.equal((await fetch(`${host.url}/api/auth/logout`, { method: 'POST', headers: { cookie: `sb_session=${session!.value}` } })).status, 204);
  for (const ws of open.splice(0)) await ws.close({ code: 4000, reason: 'test: network blip' });
  await a.page.waitForURL(`${host.url}/client/${D}/sign-in?reason=expired`, { timeout: UI_TIMEOUT });
  t.equal(connections, 2, 'one reconnect, refused with 4401, and no retry loop');
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});
