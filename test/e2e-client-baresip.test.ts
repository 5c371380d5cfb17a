// Issue 7: a browser user and a baresip user chat. baresip 1.0.0 (Debian's
// softphone, MD5 digest as it needs) registers with the host; Alice uses the
// web client in Debian's Chromium. Her message reaches the phone as a SIP
// MESSAGE, and the phone's digest-challenged answer appears in her open
// conversation without a reload. Screenshot: test/artifacts/screenshots/client-baresip-chat.png.
import t from 'tap';
import { launchBrowser, newContext, screenshot } from './helpers/browser.ts';
import { startBaresip, type Baresip } from './helpers/baresip.ts';
import { D, UI_TIMEOUT, clientHost, consoleErrors, cspViolations, password, signIn, userApi, watchPages } from '../plugins/web-client/test/client-session.ts';

const SIP_WAIT_MS = 15_000;

t.test('a browser user and a baresip user chat', async (t) => {
  const host = await clientHost(['alice', 'bob'], { sip: { registrar: { algorithms: ['MD5'] }, auth: { challengeMethods: ['MESSAGE'] } } });
  const phones: Baresip[] = [];
  const browser = await launchBrowser();
  t.teardown(async () => {
    await browser.close();
    for (const p of phones) await p.stop();
    await host.close();
  });
  const bob = await startBaresip({ user: 'bob', password: password('bob'), domain: D, regint: 300, registrar: { host: '127.0.0.1', port: host.sipPort, transport: 'udp' } });
  phones.push(bob);
  await bob.waitRegistered(SIP_WAIT_MS);

  const a = await newContext(browser);
  await watchPages(a.context);
  await signIn(a.page, host, 'alice');
  await a.page.getByRole('button', { name: 'New conversation' }).click();
  await a.page.getByLabel('With (user names, separated by commas)').fill('bob');
  await a.page.getByRole('button', { name: 'Start' }).click();
  const win = a.page.locator('[data-im="conversation-window"]');
  await win.locator('.im-conversation__subject', { hasText: 'bob' }).waitFor({ timeout: UI_TIMEOUT });
  await a.page.getByLabel('Message', { exact: true }).fill('Hello from the browser');
  await a.page.keyboard.press('Enter');
  await win.locator('.im-message--mine', { hasText: 'Hello from the browser' }).waitFor({ timeout: UI_TIMEOUT });
  const got = await bob.waitMessage((m) => m.text === 'Hello from the browser', SIP_WAIT_MS);
  t.match(got.from, new RegExp(`^sip:alice@${D.replace('.', '\\.')}`), 'the phone got it from alice');

  await bob.sendMessage(`sip:alice@${D}`, 'Hello from baresip');
  await win.locator('.im-message', { hasText: 'Hello from baresip' }).waitFor({ timeout: UI_TIMEOUT });
  t.equal(await win.locator('.im-message', { hasText: 'Hello from baresip' }).getAttribute('data-sender'), 'bob', 'shown as from bob, live');
  // The phone authenticated its MESSAGE: challenged first, then accepted.
  const isMessage = (raw: string) => /\r\nCSeq:\s*\d+\s+MESSAGE\r\n/i.test(raw);
  const challenged = await bob.waitSip((m) => m.direction === 'received' && (m.status === 401 || m.status === 407) && isMessage(m.raw), SIP_WAIT_MS);
  const accepted = await bob.waitSip((m) => m.direction === 'received' && m.status !== undefined && m.status >= 200 && m.status < 300 && isMessage(m.raw), SIP_WAIT_MS);
  t.ok(challenged && accepted, 'the MESSAGE from the phone was digest-challenged, then accepted');
  await screenshot(a.page, 'client-baresip-chat');

  const history = await (await userApi(host, 'alice')).call('GET', `/api/plugins/im/sites/${D}/history?with=bob`);
  t.same(history.json.messages.map((m: { sender: string; body: string }) => `${m.sender}: ${m.body}`), ['alice: Hello from the browser', 'bob: Hello from baresip'], 'both in the history');
  t.same(consoleErrors(a.page), [], 'no console errors');
  t.same(cspViolations(a.page), [], 'no CSP violations');
  await a.context.close();
});
