// Themes in Debian's Chromium: the default theme with a site's branding, the
// high-contrast theme, a phone-sized screen, keyboard access, and the CSP
// blocking what a fragment must not do. Screenshots: test/artifacts/screenshots/theme-*.png.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { launchBrowser, newContext, screenshot } from './helpers/browser.ts';
import { makeUiFixtures, type UiFixtures } from './ui-helpers.ts';

let fixtures: UiFixtures;
let th: TestHost;
let browser: Browser;

t.before(async () => {
  fixtures = await makeUiFixtures();
  th = await createTestHost({
    plugins: [...fixtures.plugins, fixtures.inline],
    sites: ['d.test', 'c.test', 'x.test'],
    sip: false,
    config: {
      sites: [
        { domain: 'd.test', name: 'Delta', branding: { colors: { primary: '#aa0000', primaryText: '#ffffff' }, menu: [{ label: 'Wiki', url: '/wiki' }], helpUrl: 'https://help.d.test/' } },
        { domain: 'c.test', name: 'Contrast Co', theme: 'contrast', branding: { colors: { primary: '#aa0000' } } },
        { domain: 'x.test' },
      ],
    },
  });
  // The inline-script fixture only where the CSP test looks.
  for (const site of ['d.test', 'c.test']) await th.adminFetch(`/api/admin/sites/${site}/plugins/uiinline`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  browser = await launchBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await th?.close();
  await fixtures?.remove();
});

const pageUrl = (site: string) => `${th.url}/api/plugins/uishell/sites/${site}/page`;
const css = (page: Page, selector: string, property: string) =>
  page.locator(selector).first().evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);

t.test('the default theme draws the site with its branding, and the page scripts run under the CSP', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(pageUrl('d.test'));
  await page.waitForFunction(() => document.documentElement.dataset.uishell === 'ran');
  t.equal(await page.getAttribute('html', 'data-theme'), 'default');
  t.equal(await css(page, '.sb-header', 'background-color'), 'rgb(170, 0, 0)', 'branding colour from /assets/sites/d.test/branding.css');
  t.equal(await css(page, '.uishell-side', 'font-weight'), '700', "the plugin's stylesheet applies");
  t.equal(await page.locator('[data-region="sidebar"] [data-plugin="uishell"][data-slot="presence.contact-list"]').count(), 1);
  t.equal(await page.locator('[data-region="main"] [data-plugin="uiextra"][data-slot="main"]').count(), 1);
  t.equal(await page.getByRole('navigation', { name: 'Site menu' }).getByRole('link', { name: 'Wiki' }).count(), 1);
  t.equal(await page.getByRole('main').count(), 1, 'one main landmark');
  t.equal(await page.getByRole('banner').count(), 1, 'a banner landmark');
  await screenshot(page, 'theme-default');
  await context.close();
  t.same(problems, [], 'no CSP violations or script errors');
});

t.test('the contrast theme renders: white on black, its own colours over the branding, yellow focus', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(pageUrl('c.test'));
  await page.waitForFunction(() => document.documentElement.dataset.uishell === 'ran');
  t.equal(await page.getAttribute('html', 'data-theme'), 'contrast');
  t.equal(await css(page, 'body', 'background-color'), 'rgb(0, 0, 0)');
  t.equal(await css(page, 'body', 'color'), 'rgb(255, 255, 255)');
  t.not(await css(page, '.sb-header', 'background-color'), 'rgb(170, 0, 0)', 'branding colours do not lower the contrast');
  await page.keyboard.press('Tab');
  t.equal(await page.evaluate(() => document.activeElement?.className), 'sb-skip-link', 'the skip link is the first stop');
  const box = await page.locator('.sb-skip-link').boundingBox();
  t.ok(box && box.y >= 0, 'and visible when focused');
  t.equal(await css(page, '.sb-skip-link', 'outline-color'), 'rgb(255, 255, 0)', 'yellow focus ring');
  t.not(await css(page, '.sb-skip-link', 'outline-style'), 'none');
  await screenshot(page, 'theme-contrast');
  await page.keyboard.press('Enter');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'sb-main', 'the skip link moves focus to the main content');
  await context.close();
  t.same(problems, [], 'no CSP violations or script errors');
});

t.test('both themes fit a 360 px phone screen', async (t) => {
  for (const site of ['d.test', 'c.test']) {
    const { context, page, problems } = await newContext(browser, { viewport: { width: 360, height: 740 } });
    await page.goto(pageUrl(site));
    await page.waitForFunction(() => document.documentElement.dataset.uishell === 'ran');
    t.equal(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0, `${site}: no sideways scrolling`);
    const sidebar = await page.locator('.sb-sidebar').boundingBox();
    const main = await page.locator('.sb-main').boundingBox();
    t.ok(sidebar && main && main.y >= sidebar.y + sidebar.height, `${site}: one column, main below the sidebar`);
    await screenshot(page, `theme-${site === 'c.test' ? 'contrast' : 'default'}-phone`);
    await context.close();
    t.same(problems, []);
  }
});

t.test('the CSP stops an inline script and inline style a fragment tries to slip in', async (t) => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(pageUrl('x.test'));
  await page.waitForFunction(() => document.documentElement.dataset.uishell === 'ran');
  t.equal(await page.locator('[data-plugin="uiinline"]').count(), 1, 'the fragment is on the page');
  t.equal(await page.evaluate(() => document.documentElement.dataset.inline), undefined, 'its inline script did not run');
  t.not(await css(page, '#uiinline', 'color'), 'rgb(1, 2, 3)', 'its inline style did not apply');
  await context.close();
  t.ok(problems.some((p) => /Content Security Policy/.test(p)), 'Chromium reports the violation');
});
