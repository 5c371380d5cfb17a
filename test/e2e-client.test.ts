// Issue 7, web client end to end: Debian's Chromium (headless, through
// playwright-core) against a real host with the presence, IM and web-client
// plugins. Two users in two browser contexts sign in through the form, see
// each other's state change live, chat one-to-one and in a group with typing
// indication and files; the live channel comes back by itself after a drop
// and catches up; an admin turns IM off and its parts leave the page at the
// next load while presence stays; the web client off for a site answers the
// 404 page; distribution groups fill the contact list. No console errors
// and no CSP violations on any page (e2e-client-session.test.ts covers
// sign-in, branding, sign-out and ended sessions; e2e-client-baresip a
// browser user chatting with baresip). Screenshots: test/artifacts/screenshots/client-*.png.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { launchBrowser, newContext, screenshot } from './helpers/browser.ts';
import { D, UI_TIMEOUT, clientHost, clientReady, consoleErrors, cspViolations, failedLoads, signIn, userApi, watchPages } from '../plugins/web-client/test/client-session.ts';

let browser: Browser;
t.before(async () => { browser = await launchBrowser(); });
t.teardown(() => browser?.close());

/** Polls a condition the test cannot await directly (the page's retries reach the route, not the test). */
async function until(ok: () => boolean): Promise<void> {
  for (let waited = 0; !ok(); waited += 50) {
    if (waited > UI_TIMEOUT) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const row = (page: Page, address: string, state?: string) =>
  page.locator(`[data-plugin="presence"] li[data-contact="${address}"]${state ? `[data-state="${state}"]` : ''}`);

t.test('two users: live presence, contact card, alerts, chat with typing and a file, group conversation', async (t) => {
  const host = await clientHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  const b = await newContext(browser, { viewport: { width: 390, height: 844 } });
  await watchPages(b.context);
  t.teardown(async () => { await a.context.close(); await b.context.close(); });
  // Bob already lists Alice; Alice adds Bob through the client below.
  const bobApi = await userApi(host, 'bob');
  t.equal((await bobApi.call('POST', `/api/plugins/presence/sites/${D}/contacts`, { address: 'alice' })).status, 201);

  await signIn(a.page, host, 'alice');
  t.equal(await a.page.locator('[data-wc-user]').innerText().then((s) => s.includes('Alice')), true, 'the shell greets the signed-in user');
  await a.page.getByText('Add a contact or group').click();
  await a.page.getByLabel('New group').fill('Lab');
  await a.page.getByRole('button', { name: 'Add group' }).click();
  await a.page.locator('.presence-group__name', { hasText: 'Lab' }).waitFor({ timeout: UI_TIMEOUT });
  await a.page.getByLabel('Address').fill('bob');
  await a.page.getByLabel('Group', { exact: true }).selectOption({ label: 'Lab' });
  await a.page.getByLabel("Alert me when this contact's status changes").check();
  await a.page.getByRole('button', { name: 'Add contact' }).click();
  const bobRow = row(a.page, `bob@${D}`);
  await bobRow.waitFor({ timeout: UI_TIMEOUT });
  t.equal(await bobRow.getAttribute('data-state'), 'offline', 'bob is offline before he signs in');
  t.match(await a.page.locator('.presence-group', { has: a.page.locator(`[data-contact="bob@${D}"]`) }).locator('h3').innerText(), /Lab/i, 'bob sits in the Lab group');

  await signIn(b.page, host, 'bob');
  await row(a.page, `bob@${D}`, 'available').waitFor({ timeout: UI_TIMEOUT });
  t.pass('alice saw bob come online without reloading');
  await row(b.page, `alice@${D}`, 'available').waitFor({ timeout: UI_TIMEOUT });
  t.pass('bob sees alice online');

  // Bob sets Busy with a note and a location; Alice sees it live and gets the tagged-contact alert.
  await b.page.getByLabel('Status', { exact: true }).selectOption('busy');
  await b.page.getByLabel('Note').fill('In the lab');
  await b.page.getByLabel('Location').fill('Office');
  await b.page.getByRole('button', { name: 'Set status' }).click();
  await b.page.locator('[data-presence="status-picker"][data-my-state="busy"]').waitFor({ timeout: UI_TIMEOUT });
  await row(a.page, `bob@${D}`, 'busy').waitFor({ timeout: UI_TIMEOUT });
  t.match(await bobRow.innerText(), /Busy[\s\S]*In the lab/, 'state words and note in the row');
  await a.page.locator('.wc-toast', { hasText: 'is now Busy' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('alice got the alert for her tagged contact');

  // The contact card, opened from the keyboard.
  await bobRow.locator('button').focus();
  await a.page.keyboard.press('Enter');
  const card = a.page.locator('[data-presence="contact-card"]');
  await card.locator('.presence-note', { hasText: 'In the lab' }).waitFor({ timeout: UI_TIMEOUT });
  t.equal(await card.locator('.presence-state').innerText(), 'Busy');
  t.equal(await card.locator('.presence-location').isVisible(), false, 'company level: no location');
  await a.page.keyboard.press('Escape');
  await card.waitFor({ state: 'hidden' });
  t.equal(await a.page.evaluate(() => document.activeElement?.closest('[data-contact]')?.getAttribute('data-contact')), `bob@${D}`, 'focus returns to the contact');

  // Moving a contact between groups from the card.
  await bobRow.locator('button').click();
  await card.getByLabel('Move to group').selectOption({ label: '(no group)' });
  await a.page.locator('.presence-group', { has: a.page.locator(`li[data-contact="bob@${D}"]`) }).locator('h3', { hasText: /other contacts/i }).waitFor({ timeout: UI_TIMEOUT });
  await card.getByLabel('Move to group').selectOption({ label: 'Lab' });
  await a.page.locator('.presence-group', { has: a.page.locator(`li[data-contact="bob@${D}"]`) }).locator('h3', { hasText: /lab/i }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('bob moved out of Lab and back from the card');

  // Chat from the card: Alice writes, Bob gets a notice, opens it, types, answers.
  await card.getByRole('button', { name: 'Send a message' }).click();
  const aWindow = a.page.locator('[data-im="conversation-window"]');
  await aWindow.locator('.im-conversation__subject', { hasText: 'bob' }).waitFor({ timeout: UI_TIMEOUT });
  await aWindow.locator('[data-im-peer-state][data-state="busy"]', { hasText: 'Busy — In the lab' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass("the conversation shows bob's state (through presence)");
  await a.page.getByLabel('Message', { exact: true }).fill('Hello Bob, lunch?');
  await a.page.keyboard.press('Enter');
  await aWindow.locator('.im-message--mine', { hasText: 'Hello Bob, lunch?' }).waitFor({ timeout: UI_TIMEOUT });
  const notice = b.page.locator('.im-alert__open', { hasText: 'alice: Hello Bob, lunch?' });
  await notice.waitFor({ timeout: UI_TIMEOUT });
  t.equal(await b.page.locator('[data-im-missed]').getAttribute('data-im-missed'), '1', 'one conversation with unread messages');
  t.match(await b.page.title(), /^\(1\) /, 'the tab title counts it');
  await screenshot(b.page, 'client-phone-notification');
  await notice.click();
  const bWindow = b.page.locator('[data-im="conversation-window"]');
  await bWindow.locator('.im-message', { hasText: 'Hello Bob, lunch?' }).waitFor({ timeout: UI_TIMEOUT });
  await b.page.getByLabel('Message', { exact: true }).pressSequentially('Sure, 12:30');
  await a.page.locator('[data-im-typing]', { hasText: 'bob is typing' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('alice sees bob typing');
  await b.page.getByRole('button', { name: 'Send', exact: true }).click();
  await aWindow.locator('.im-message', { hasText: 'Sure, 12:30' }).waitFor({ timeout: UI_TIMEOUT });
  await a.page.locator('[data-im-typing]').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  t.pass('the reply arrived and the typing line went away');

  // A file: Alice attaches, Bob downloads the same bytes.
  const content = 'minutes of the lab meeting\n'.repeat(20);
  await a.page.getByLabel('Attach a file').setInputFiles({ name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
  const link = b.page.locator('[data-im="conversation-window"] a.im-file-link', { hasText: 'minutes.txt' });
  await link.waitFor({ timeout: UI_TIMEOUT });
  const [download] = await Promise.all([b.page.waitForEvent('download'), link.click()]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  t.equal(Buffer.concat(chunks).toString(), content, 'bob downloaded the file alice sent');
  t.equal(download.suggestedFilename(), 'minutes.txt');
  // A larger file goes up in resumable parts, with progress shown, and arrives whole.
  const big = randomBytes(1_300_000);
  await a.page.getByLabel('Attach a file').setInputFiles({ name: 'capture.bin', mimeType: 'application/octet-stream', buffer: big });
  const bigLink = b.page.locator('[data-im="conversation-window"] a.im-file-link', { hasText: 'capture.bin' });
  await bigLink.waitFor({ timeout: UI_TIMEOUT });
  const [bigDownload] = await Promise.all([b.page.waitForEvent('download'), bigLink.click()]);
  const bigChunks: Buffer[] = [];
  for await (const chunk of await bigDownload.createReadStream()) bigChunks.push(chunk as Buffer);
  t.ok(Buffer.concat(bigChunks).equals(big), 'the 1.3 MB file arrived byte for byte');
  t.ok(failedLoads(a.page).every((f) => !f.includes('/uploads')), 'every part was accepted');
  const blocked = await a.page.getByLabel('Attach a file').setInputFiles({ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') })
    .then(() => a.page.locator('[data-im="conversation-window"] [data-im-error]').filter({ hasText: /exe/ }).waitFor({ timeout: UI_TIMEOUT }));
  t.equal(blocked, undefined, 'a blocked extension is refused with the reason next to the compose box');

  // A group conversation with a subject; Carol (over HTTP) answers in it.
  await a.page.getByRole('button', { name: 'New conversation' }).click();
  await a.page.getByLabel('With (user names, separated by commas)').fill('bob, carol');
  await a.page.getByLabel('Subject (for a group)').fill('Release plan');
  await a.page.getByRole('button', { name: 'Start' }).click();
  await aWindow.locator('.im-conversation__subject', { hasText: 'Release plan' }).waitFor({ timeout: UI_TIMEOUT });
  const groupId = await aWindow.getAttribute('data-conversation');
  t.match(groupId, /^[0-9a-f]{12}$/);
  await b.page.locator('.im-alert__open', { hasText: 'alice started a conversation: Release plan' }).waitFor({ timeout: UI_TIMEOUT });
  await a.page.getByLabel('Message', { exact: true }).fill('Ship on Friday?');
  await a.page.keyboard.press('Enter');
  const carolApi = await userApi(host, 'carol');
  t.equal((await carolApi.call('POST', `/api/plugins/im/sites/${D}/conversations/${groupId}/messages`, { body: 'Friday works for me' })).status, 201);
  await aWindow.locator('.im-message', { hasText: 'Friday works for me' }).waitFor({ timeout: UI_TIMEOUT });
  await b.page.locator('[data-im="conversation-list"] [data-conversation="' + groupId + '"]').click();
  await bWindow.locator('.im-message', { hasText: 'Ship on Friday?' }).waitFor({ timeout: UI_TIMEOUT });
  await bWindow.locator('.im-message', { hasText: 'Friday works for me' }).waitFor({ timeout: UI_TIMEOUT });
  t.match(await bWindow.locator('.im-conversation__participants').innerText(), /carol/, 'participants listed');
  await screenshot(a.page, 'client-desktop-group-conversation');
  await screenshot(b.page, 'client-phone-group-conversation');
  t.ok(await b.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'nothing wider than a 390 px phone screen');

  // After a reload the list comes from the server: a group nobody has written in yet is still there.
  const standup = await carolApi.call('POST', `/api/plugins/im/sites/${D}/conversations`, { participants: ['alice', 'bob'], subject: 'Standup' });
  t.equal(standup.status, 201);
  const standupId = (standup.json as { id: string }).id;
  await b.page.reload();
  await clientReady(b.page);
  const bList = b.page.locator('[data-im="conversation-list"]');
  await bList.locator(`[data-conversation="${standupId}"]`).waitFor({ timeout: UI_TIMEOUT });
  await bList.locator(`[data-conversation="${groupId}"]`).waitFor({ timeout: UI_TIMEOUT });
  t.match(await bList.locator(`[data-conversation="${standupId}"]`).innerText(), /Standup/, 'an empty group conversation survives a reload');
  await bList.locator(`[data-conversation="${groupId}"]`).click();
  await bWindow.locator('.im-message', { hasText: 'Friday works for me' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('and a group with messages opens on its newest ones');

  t.same(failedLoads(a.page), [`415 POST /api/plugins/im/sites/${D}/files`], 'the refused upload is the one failed request');
  t.same([...consoleErrors(a.page, [`/api/plugins/im/sites/${D}/files`]), ...consoleErrors(b.page)], [], 'no console errors');
  t.same([...cspViolations(a.page), ...cspViolations(b.page)], [], 'no CSP violations');
});

t.test('the live channel reconnects by itself and catches up on what it missed', async (t) => {
  const host = await clientHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  const aliceApi = await userApi(host, 'alice');
  await aliceApi.call('POST', `/api/plugins/presence/sites/${D}/contacts`, { address: 'bob' });
  // The page's WebSocket goes through this route so the test can cut it like a network would.
  let cut = false;
  const open: WebSocketRoute[] = [];
  let connections = 0;
  await a.page.routeWebSocket(/\/api\/live$/, (ws) => {
    connections++;
    if (cut) { ws.close({ code: 4000, reason: 'test: network down' }); return; }
    ws.connectToServer();
    open.push(ws);
  });
  await signIn(a.page, host, 'alice');
  const bobRow = row(a.page, `bob@${D}`);
  await bobRow.waitFor({ timeout: UI_TIMEOUT });
  t.equal(await bobRow.getAttribute('data-state'), 'offline');

  cut = true;
  for (const ws of open.splice(0)) await ws.close({ code: 4000, reason: 'test: network down' });
  await a.page.locator('[data-wc-live="reconnecting"]').waitFor({ timeout: UI_TIMEOUT });
  t.match(await a.page.locator('[data-wc-live]').innerText(), /reconnecting/i, 'the user sees the connection is down');
  // While alice is cut off, bob's state changes and a message arrives for her.
  const bobApi = await userApi(host, 'bob');
  t.equal((await bobApi.call('PUT', `/api/plugins/presence/sites/${D}/me`, { state: 'do-not-disturb', note: 'Focus time' })).status, 200);
  t.equal((await bobApi.call('POST', `/api/plugins/im/sites/${D}/messages`, { to: 'alice', body: 'Sent while you were cut off' })).status, 200);
  const triedWhileCut = connections;
  await until(() => connections >= triedWhileCut + 3);
  t.pass('the client kept trying while the network was down');
  // Backoff: after three refused attempts the next wait shown is longer than the first (about 0.5 s, shown as 1 s).
  await a.page.locator('[data-wc-live="reconnecting"]').waitFor({ timeout: UI_TIMEOUT });
  const wait = Number(/reconnecting in (\d+) s/i.exec(await a.page.locator('[data-wc-live]').innerText())?.[1]);
  t.ok(wait >= 3, `the client backs off (next attempt in ${wait} s)`);
  cut = false;
  await clientReady(a.page);
  t.ok(connections > 1, 'the client reconnected on its own');
  await row(a.page, `bob@${D}`, 'do-not-disturb').waitFor({ timeout: UI_TIMEOUT });
  t.match(await bobRow.innerText(), /Focus time/, 'the missed state change is shown after the reconnect');
  await a.page.locator('[data-im="conversation-list"] [data-conversation]', { hasText: 'Sent while you were cut off' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('the message sent during the cut is in the conversation list');
  // Events flow again on the new connection.
  await bobApi.call('PUT', `/api/plugins/presence/sites/${D}/me`, { state: 'available' });
  await row(a.page, `bob@${D}`, 'available').waitFor({ timeout: UI_TIMEOUT });
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(failedLoads(a.page), [], 'no failed requests');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('an admin turns IM off for the site: after a reload the IM parts are gone, presence stays', async (t) => {
  const host = await clientHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  // GET / takes a browser to the client of the site (manifest ui.entry), then to sign-in.
  await a.page.goto(`${host.url}/`);
  await a.page.waitForURL(`${host.url}/client/${D}/sign-in`, { timeout: UI_TIMEOUT });
  await signIn(a.page, host, 'alice');
  t.ok(await a.page.locator('[data-plugin="im"]').count() >= 3, 'IM fragments are on the page');
  t.ok(await a.page.locator('[data-plugin="im"][data-slot="web.conversation-window"]').isVisible());

  const off = await host.adminFetch(`/api/admin/sites/${D}/plugins/im`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200, 'the admin API turned IM off');
  await a.page.reload();
  await clientReady(a.page);
  t.equal(await a.page.locator('[data-plugin="im"]').count(), 0, 'no IM fragment after the reload');
  t.equal(await a.page.locator('[data-client-script^="/assets/plugins/im/"]').count(), 0);
  const scripts = await a.page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  t.notOk(scripts.some((p) => p.startsWith('/assets/plugins/im/')), 'the IM scripts were not loaded either');
  t.ok(await a.page.locator('[data-plugin="presence"][data-slot="presence.contact-list"]').isVisible(), 'the contact list stays');
  t.ok(await a.page.locator('[data-plugin="presence"][data-slot="presence.status-picker"]').isVisible(), 'the status picker stays');
  // Presence still works live without IM.
  await a.page.getByLabel('Status', { exact: true }).selectOption('be-right-back');
  await a.page.getByRole('button', { name: 'Set status' }).click();
  await a.page.locator('[data-presence="status-picker"][data-my-state="be-right-back"]').waitFor({ timeout: UI_TIMEOUT });
  t.equal((await (await userApi(host, 'bob')).call('GET', `/api/plugins/presence/sites/${D}/users/alice`)).json.presence.state, 'be-right-back');
  await screenshot(a.page, 'client-desktop-im-off');

  const on = await host.adminFetch(`/api/admin/sites/${D}/plugins/im`, { method: 'PUT', body: JSON.stringify({ enabled: true }) });
  t.equal(on.status, 200);
  await a.page.reload();
  await clientReady(a.page);
  t.ok(await a.page.locator('[data-plugin="im"]').count() >= 3, 'IM is back at the next load, no restart');
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('the web client turned off for a site: its pages answer a clear 404 page', async (t) => {
  const host = await clientHost(['alice']);
  t.teardown(() => host.close());
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  const off = await host.adminFetch(`/api/admin/sites/${D}/plugins/web-client`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200);
  for (const path of [`/client/${D}/`, `/client/${D}/sign-in`]) {
    const res = await a.page.goto(`${host.url}${path}`);
    t.equal(res?.status(), 404, `${path} answers 404`);
    const text = await a.page.locator('body').innerText();
    t.match(text, /CORE_ERR_PLUGIN_NOT_ENABLED/, 'the page names the code');
    t.match(text, /not enabled for this site/i, 'and says what is wrong');
    t.equal(await a.page.locator('[data-wc-sign-in], [data-wc-shell]').count(), 0, 'no client on it');
  }
  await screenshot(a.page, 'client-disabled-404');
  // The presence API of the site does not depend on the web client.
  t.equal((await (await userApi(host, 'alice')).call('GET', `/api/plugins/presence/sites/${D}/me`)).status, 200);
  t.same(consoleErrors(a.page, [`/client/${D}/`, `/client/${D}/sign-in`]), [], 'no console errors besides the 404 loads themselves');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});

t.test('a distribution group adds its members, phone numbers included, to the contact list', async (t) => {
  const host = await clientHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  const config = { distributionGroups: [{ id: 'sales', name: 'Sales team', members: ['bob', 'carol', '+1 555 0100'] }] };
  t.equal((await host.adminFetch(`/api/admin/sites/${D}/plugins/presence`, { method: 'PUT', body: JSON.stringify({ enabled: true, config }) })).status, 200);
  const a = await newContext(browser);
  await watchPages(a.context);
  t.teardown(() => a.context.close());
  await signIn(a.page, host, 'alice');
  await a.page.getByText('Add a contact or group').click();
  await a.page.getByLabel('Distribution group').selectOption({ label: 'Sales team' });
  await a.page.getByRole('button', { name: 'Add its members' }).click();
  await a.page.getByRole('status').filter({ hasText: 'Added 3 contacts.' }).waitFor({ timeout: UI_TIMEOUT });
  await row(a.page, `bob@${D}`).waitFor({ timeout: UI_TIMEOUT });
  await row(a.page, `carol@${D}`).waitFor({ timeout: UI_TIMEOUT });
  const phone = a.page.locator('[data-plugin="presence"] li[data-kind="phone"]');
  t.equal(await phone.count(), 1, 'the phone number is a contact too');
  t.match(await phone.innerText(), /Phone number/, 'shown as a number, without presence');
  await a.page.getByRole('button', { name: 'Add its members' }).click();
  await a.page.getByRole('status').filter({ hasText: 'Added 0 contacts; 3 already in your list.' }).waitFor({ timeout: UI_TIMEOUT });
  t.pass('adding again skips who is there');
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
});
