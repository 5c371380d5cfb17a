// The admin console in Debian's Chromium (headless, playwright-core): sign-in,
// plugin toggle, a settings form's validation error next to its field, CSV
// import with progress and a per-line report, live registrations, and a
// site-admin who can see nothing of another site. Screenshots go to
// test/artifacts/screenshots/admin-*.png.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { launchBrowser, newContext, screenshot } from './helpers/browser.ts';
import { udpPeer, statusOf } from './helpers/raw-sip.ts';
import { challengeOf, digestAnswer } from './helpers/digest-peer.ts';
import { admin, call, EXPECTED_PROBLEMS, SAMPLE_CSV, signIn } from './identity-helpers.ts';
import { makeUiFixtures, type UiFixtures } from './ui-helpers.ts';

let fixtures: UiFixtures;
let th: TestHost;
let browser: Browser;

t.before(async () => {
  fixtures = await makeUiFixtures();
  th = await createTestHost({ plugins: fixtures.plugins, sites: ['a.test', 'b.test'] });
  browser = await launchBrowser();
  for (const [site, username, role] of [['a.test', 'alice', 'user'], ['b.test', 'sam', 'site-admin'], ['b.test', 'bert', 'user']] as const) {
    const res = await admin(th, 'POST', `/api/admin/sites/${site}/users`, { username, password: `${username}-password`, displayName: username.toUpperCase(), role });
    if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  }
});
t.teardown(async () => {
  await browser?.close();
  await th?.close();
  await fixtures?.remove();
});

async function signInAs(page: Page, username: string, password: string, site?: string): Promise<void> {
  await page.goto(`${th.url}/admin`);
  await page.getByLabel('Username').fill(username);
  if (site) await page.getByLabel(/^Site/).fill(site);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#sb-admin[data-state="console"]');
}

t.test('a wrong password keeps the sign-in form and says why', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(`${th.url}/admin`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'CORE_ERR_AUTH_INVALID' }).waitFor();
  t.equal(await page.getAttribute('#sb-admin', 'data-state'), 'sign-in');
  await screenshot(page, 'admin-sign-in-error');
  await context.close();
  t.same(problems.filter((p) => !/401/.test(p)), [], 'no CSP violations or script errors (the refused login is the only failed request)');
});

t.test('a user who is not an admin is told so and sees no site data', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(`${th.url}/admin`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel(/^Site/).fill('a.test');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#sb-admin[data-state="not-admin"]');
  t.match(await page.locator('#sb-admin').textContent(), /Not an administrator/);
  t.equal(await page.locator('nav[aria-label="Sites"]').count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('#sb-admin[data-state="sign-in"]');
  await context.close();
  t.same(problems, []);
});

t.test('the admin turns a plugin off for a site and sees its state change', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  t.equal(await page.locator('.sba-sites tbody tr').count(), 2, 'both sites listed');
  await page.locator('.sba-sites tr[data-site="a.test"] td[data-theme="default"]').waitFor();
  await screenshot(page, 'admin-sites');
  await page.locator('nav[aria-label="Sites"] a[data-site="a.test"]').click();
  await page.getByRole('link', { name: 'Plugins' }).click();
  const card = page.locator('article[data-plugin="uiextra"]');
  await card.waitFor();
  t.equal(await card.locator('.sba-plugin-state').textContent(), 'On');
  t.match(await page.locator('.sba-failures').textContent(), /uibroken.*fails on purpose/, 'the failed plugin is listed with its reason');
  t.ok(await page.locator('article[data-plugin="uibroken"] input[role="switch"]').isDisabled(), 'a failed plugin cannot be switched on');

  await card.getByRole('switch').click();
  await card.locator('.sba-plugin-state[data-state="off"]').waitFor();
  t.equal(await card.locator('.sba-plugin-state').textContent(), 'Off');
  t.match(await card.getByRole('status').textContent(), /off for a\.test/);
  const { body } = await admin(th, 'GET', '/api/admin/plugins');
  t.equal(body.plugins.find((p: { id: string }) => p.id === 'uiextra').sites['a.test'].enabled, false, 'the server has it off');
  const pageHtml = await (await fetch(`${th.url}/api/plugins/uishell/sites/a.test/page`)).text();
  t.notMatch(pageHtml, /data-plugin="uiextra"/, 'its fragments are gone from the site pages');
  await screenshot(page, 'admin-plugins');

  await page.reload();
  await page.locator('article[data-plugin="uiextra"] .sba-plugin-state').waitFor();
  t.equal(await page.locator('article[data-plugin="uiextra"] .sba-plugin-state').textContent(), 'Off', 'still off after a reload');
  await page.locator('article[data-plugin="uiextra"]').getByRole('switch').click();
  await page.locator('article[data-plugin="uiextra"] .sba-plugin-state[data-state="on"]').waitFor();
  await context.close();
  t.same(problems, [], 'no CSP violations or script errors');
});

t.test('a settings form from the plugin schema shows the server validation error next to the field', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  await page.goto(`${th.url}/admin#/sites/a.test/plugins`);
  const card = page.locator('article[data-plugin="uiextra"]');
  await card.locator('summary').click();
  const greeting = card.locator('[data-path="/greeting"]');
  t.equal(await greeting.inputValue(), 'Hi', 'current value (the default)');
  t.equal(await card.locator('select[data-path="/mode"]').inputValue(), 'quiet');
  t.equal(await card.locator('[data-path="/nested/depth"]').inputValue(), '1', 'nested object fields');
  await greeting.fill('x');
  await card.locator('[data-path="/limit"]').fill('99');
  await card.getByRole('button', { name: 'Save settings' }).click();
  const greetingError = card.locator('.sba-field', { has: page.locator('[data-path="/greeting"]') }).locator('.sb-field-error');
  await greetingError.waitFor({ state: 'visible' });
  t.match(await greetingError.textContent(), /fewer than 2 characters/);
  t.equal(await greeting.getAttribute('aria-invalid'), 'true');
  const describedBy = (await greeting.getAttribute('aria-describedby')) ?? '';
  t.ok(describedBy.split(' ').includes((await greetingError.getAttribute('id')) ?? '-'), 'the error is the field description for screen readers');
  t.match(await card.locator('.sba-field', { has: page.locator('[data-path="/limit"]') }).locator('.sb-field-error').textContent(), /<= 10/);
  t.notOk(await card.locator('.sba-field', { has: page.locator('[data-path="/mode"]') }).locator('.sb-field-error').isVisible(), 'no error on a good field');
  t.match(await card.getByRole('status').last().textContent(), /CORE_ERR_PLUGIN_CONFIG_INVALID/);
  await screenshot(page, 'admin-settings-validation');
  const { body } = await admin(th, 'GET', '/api/admin/plugins');
  const stored = body.plugins.find((p: { id: string }) => p.id === 'uiextra').sites['a.test'].config;
  t.not(stored.greeting, 'x', 'nothing saved');
  t.not(stored.limit, 99, 'nothing saved');

  await greeting.fill('Hello there');
  await card.locator('[data-path="/limit"]').fill('7');
  await card.locator('[data-path="/tags"]').fill('red, blue');
  await card.getByRole('button', { name: 'Save settings' }).click();
  await card.getByText('Settings saved.').waitFor();
  t.notOk(await greetingError.isVisible(), 'errors cleared');
  const after = (await admin(th, 'GET', '/api/admin/plugins')).body.plugins.find((p: { id: string }) => p.id === 'uiextra').sites['a.test'].config;
  t.match(after, { greeting: 'Hello there', limit: 7, tags: ['red', 'blue'] });
  await context.close();
  t.same(problems.filter((p) => !/400/.test(p)), [], 'no CSP violations or script errors (the refused save is the only failed request)');
});

t.test('CSV import shows its progress and a report line by line', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  // b.test: its users do not collide with the sample file's names.
  await page.goto(`${th.url}/admin#/sites/b.test/users`);
  const extra = Array.from({ length: 40 }, (_, i) => `bulk${i},bulk-password-${i},Bulk ${i},,,,,,`);
  const csv = `${SAMPLE_CSV}\n${extra.join('\n')}\n`;
  const total = SAMPLE_CSV.split('\n').length - 1 + extra.length;
  await page.evaluate(() => {
    const w = window as unknown as { seenProgress: number[] };
    w.seenProgress = [];
    new MutationObserver(() => {
      const box = document.querySelector<HTMLElement>('.sba-progress');
      if (box?.dataset.done !== undefined) w.seenProgress.push(Number(box.dataset.done));
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-done'] });
  });
  await page.getByLabel('CSV file').setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('.sba-progress').waitFor({ state: 'visible' });
  await page.locator('.sba-progress[data-state="done"]').waitFor({ timeout: 60_000 });
  const progress = page.locator('.sba-progress progress');
  t.equal(Number(await progress.getAttribute('max')), total, 'progress bar sized to the file');
  t.equal(await progress.evaluate((p) => (p as HTMLProgressElement).value), total, 'and full at the end');
  t.match(await page.locator('.sba-progress-text').textContent(), `Finished: ${total} lines, ${total - EXPECTED_PROBLEMS.length} created, ${EXPECTED_PROBLEMS.length} failed.`);
  const seen = await page.evaluate(() => (window as unknown as { seenProgress: number[] }).seenProgress);
  t.ok(seen.length >= 1 && seen.every((v, i) => i === 0 || v >= seen[i - 1]!), `progress only moves forward (${seen.join(', ')})`);
  t.equal(seen.at(-1), total);

  const rows = page.locator('.sba-import-lines tbody tr');
  t.equal(await rows.count(), total, 'one report row per line');
  const failed = await page.locator('.sba-import-lines tr.sba-line-failed').evaluateAll((trs) => trs.map((tr) => ({
    line: Number((tr as HTMLElement).dataset.line), field: tr.children[2]!.textContent, reason: tr.children[3]!.textContent,
  })));
  t.same(failed.map((f) => f.line), EXPECTED_PROBLEMS.map((p) => p.line), 'the failed lines');
  for (const expected of EXPECTED_PROBLEMS) {
    const row = failed.find((f) => f.line === expected.line);
    t.equal(row?.field, expected.field, `line ${expected.line} names its field`);
    t.match(row?.reason, expected.code, `line ${expected.line} gives its code`);
  }
  t.match(await page.locator('.sba-import-lines tr[data-line="2"]').textContent(), /created alice/);
  await page.locator('table.sba-users tr[data-username="bulk39"]').waitFor();
  await screenshot(page, 'admin-csv-import');
  await context.close();
  t.same(problems, [], 'no CSP violations or script errors');
});

t.test('users: create with a field error, edit, reset the password', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  await page.goto(`${th.url}/admin#/sites/a.test/users`);
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.locator('.sba-panel [data-path="/username"]').fill('zoe');
  await page.locator('.sba-panel [data-path="/password"]').fill('short');
  await page.getByRole('button', { name: 'Create user' }).click();
  const pwError = page.locator('.sba-panel .sba-field', { has: page.locator('[data-path="/password"]') }).locator('.sb-field-error');
  await pwError.waitFor({ state: 'visible' });
  t.match(await pwError.textContent(), /fewer than 8 characters/);
  await page.locator('.sba-panel [data-path="/password"]').fill('zoe-long-password');
  await page.locator('.sba-panel [data-path="/displayName"]').fill('Zoë <Z>');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.locator('table.sba-users tr[data-username="zoe"]').waitFor();
  t.equal(await page.locator('table.sba-users tr[data-username="zoe"] td').first().textContent(), 'Zoë <Z>', 'shown as text');

  await page.locator('tr[data-username="zoe"]').getByRole('button', { name: /^Edit/ }).click();
  await page.locator('.sba-panel [data-path="/groups"]').fill('sales, support');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('tr[data-username="zoe"] td', { hasText: 'sales, support' }).waitFor();

  await page.locator('tr[data-username="zoe"]').getByRole('button', { name: /^Reset password/ }).click();
  await page.locator('.sba-panel [data-path="/password"]').fill('zoe-new-password');
  await page.getByRole('button', { name: 'Set password', exact: true }).click();
  await page.getByText('Set password: done.').waitFor();
  t.equal((await signIn(th.url, 'zoe', 'zoe-new-password', 'a.test')).status, 200, 'the new password works');
  await context.close();
  t.same(problems.filter((p) => !/400/.test(p)), []);
});

t.test('live registrations per user', async (t) => {
  const peer = await udpPeer({ host: '127.0.0.1', port: th.sipPort });
  t.teardown(() => peer.close());
  const reg = (cseq: number, auth?: string) => [
    'REGISTER sip:a.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKadm${cseq}${Date.now()};rport`,
    'Max-Forwards: 70', 'From: <sip:alice@a.test>;tag=adm1', 'To: <sip:alice@a.test>', 'Call-ID: admin-console-reg',
    `CSeq: ${cseq} REGISTER`, `Contact: <sip:alice@127.0.0.1:${peer.port}>`, 'Expires: 300', 'User-Agent: e2e-phone/1.0',
    ...(auth ? [`Authorization: ${auth}`] : []), 'Content-Length: 0', '', '',
  ].join('\r\n');
  peer.send(reg(1));
  const challenge = await peer.next((m) => statusOf(m) >= 200);
  t.equal(statusOf(challenge), 401);
  const c = challengeOf(challenge);
  peer.send(reg(2, digestAnswer({ username: 'alice', password: 'alice-password', realm: c.realm, nonce: c.nonce, algorithm: c.algorithm, method: 'REGISTER', uri: 'sip:a.test' })));
  t.equal(statusOf(await peer.next((m) => m.includes('CSeq: 2 REGISTER'))), 200, 'alice registered');

  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  await page.goto(`${th.url}/admin#/sites/a.test/registrations`);
  const row = page.locator('table.sba-registrations tr[data-username="alice"]');
  await row.locator('td', { hasText: 'e2e-phone/1.0' }).waitFor();
  t.match(await row.textContent(), new RegExp(`sip:alice@127\\.0\\.0\\.1:${peer.port}.*udp`));
  await screenshot(page, 'admin-registrations');
  await context.close();
  t.same(problems, []);
});

t.test('a site-admin sees only their site, in the console and through the API', async (t) => {
  const { context, page, problems } = await newContext(browser);
  const asked: string[] = [];
  page.on('request', (r) => asked.push(r.url()));
  await signInAs(page, 'sam', 'sam-password', 'b.test');
  await page.locator('table.sba-users tr[data-username="bert"]').waitFor();
  t.equal(page.url().split('#')[1], '/sites/b.test/users', 'lands on their site');
  t.match(page.url(), /\/admin\?site=b\.test#/, "drawn with their site's theme");
  const sites = await page.locator('nav[aria-label="Sites"] a').allTextContents();
  t.same(sites, ['b.test'], 'only their site in the menu');
  t.equal(await page.getByRole('link', { name: 'All sites' }).count(), 0);
  await page.getByRole('link', { name: 'Plugins' }).click();
  await page.locator('article[data-plugin="uiextra"]').waitFor();
  t.notMatch(await page.locator('#sba-content').textContent(), /a\.test/, 'no other site named on the plugins page');
  await screenshot(page, 'admin-site-admin');

  await page.goto(`${th.url}/admin#/sites/a.test/users`);
  await page.getByText('You do not manage the site a.test.').waitFor();
  await page.goto(`${th.url}/admin#/sites`);
  await page.waitForFunction(() => location.hash === '#/sites/b.test/users');
  t.same(asked.filter((u) => u.includes('a.test')).filter((u) => !u.includes('#')), [], 'the console never asked the server about a.test');
  await context.close();
  t.same(problems, [], 'no CSP violations or script errors');

  const token = (await signIn(th.url, 'sam', 'sam-password', 'b.test')).body.token;
  const as = (method: string, path: string, body?: unknown) => call(th.url, method, path, { token, ...(body !== undefined ? { body } : {}) });
  t.same((await as('GET', '/api/admin/sites')).body.sites.map((s: { domain: string }) => s.domain), ['b.test']);
  const plugins = (await as('GET', '/api/admin/plugins')).body.plugins as Array<{ sites: Record<string, unknown> }>;
  t.ok(plugins.every((p) => Object.keys(p.sites).every((s) => s === 'b.test')), 'plugin settings of b.test only');
  for (const [method, path, body] of [
    ['GET', '/api/admin/sites/a.test/users'],
    ['GET', '/api/admin/sites/a.test'],
    ['GET', '/api/admin/sites/a.test/branding'],
    ['PUT', '/api/admin/sites/a.test/branding', { theme: 'contrast' }],
    ['GET', '/api/admin/sites/a.test/registrations'],
    ['GET', '/api/admin/sites/a.test/users/alice/registrations'],
    ['PUT', '/api/admin/sites/a.test/plugins/uiextra', { enabled: false }],
    ['POST', '/api/admin/sites/a.test/users/import-jobs'],
  ] as const) {
    const res = await as(method, path, body);
    t.equal(res.status, 403, `${method} ${path} is refused`);
    t.equal(res.body.code, 'CORE_ERR_FORBIDDEN');
  }
  t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/branding')).body.appearance.theme, 'default', 'nothing changed on a.test');
});

t.test('the branding tab changes the theme and refuses a bad colour next to its field', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await signInAs(page, 'admin', th.adminPassword);
  await page.goto(`${th.url}/admin#/sites/b.test/branding`);
  const theme = page.locator('select[data-path="/theme"]');
  await theme.waitFor();
  t.equal(await theme.inputValue(), 'default');
  await theme.selectOption('contrast');
  const primary = page.locator('[data-path="/branding/colors/primary"]');
  await primary.fill('red;} body { display: none');
  await page.locator('[data-path="/branding/signInText"]').fill('Hello <b>B</b>');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const error = page.locator('.sba-field', { has: primary }).locator('.sb-field-error');
  await error.waitFor({ state: 'visible' });
  t.match(await error.textContent(), /must match/);
  t.equal((await admin(th, 'GET', '/api/admin/sites/b.test/branding')).body.appearance.theme, 'default', 'nothing saved');
  await primary.fill('#336699');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved; pages use it from their next load.').waitFor();
  t.match((await admin(th, 'GET', '/api/admin/sites/b.test/branding')).body.appearance, { theme: 'contrast', branding: { signInText: 'Hello <b>B</b>', colors: { primary: '#336699' } } });
  await page.goto(`${th.url}/admin?site=b.test`);
  await page.waitForSelector('#sb-admin[data-state="console"]');
  t.equal(await page.getAttribute('html', 'data-theme'), 'contrast', 'the console itself now uses the contrast theme for b.test');
  await screenshot(page, 'admin-contrast-theme');
  t.equal((await admin(th, 'DELETE', '/api/admin/sites/b.test/branding')).status, 200);
  await context.close();
  t.same(problems.filter((p) => !/400/.test(p)), []);
});

t.test('the console is usable on a phone-sized screen', async (t) => {
  const { context, page, problems } = await newContext(browser, { viewport: { width: 360, height: 740 } });
  await signInAs(page, 'admin', th.adminPassword);
  await page.goto(`${th.url}/admin#/sites/a.test/plugins`);
  await page.locator('article[data-plugin="uiextra"]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.equal(overflow, 0, 'no sideways scrolling');
  await page.reload();
  await page.locator('article[data-plugin="uiextra"]').waitFor();
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to main content', 'the skip link comes first');
  await screenshot(page, 'admin-phone');
  await context.close();
  t.same(problems, []);
});
