/**
 * What the browser tests of the web client share: a real host with the
 * presence, IM and web-client plugins, users, a signed-in browser page per
 * user, and a token-authenticated fetch for the side a test does not drive
 * through the browser.
 */
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { createTestHost, type TestHost } from '@switchboard/sdk';

export const D = 'example.test';
const dir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
export const PLUGINS = [dir('presence'), dir('im'), dir('web-client')];
export const password = (user: string) => `${user}-secret-pw`;
/** Generous: a loaded 2-core CI machine runs Chromium, the host and baresip at once. */
export const UI_TIMEOUT = 15_000;

export async function clientHost(users: string[], config: Record<string, unknown> = {}): Promise<TestHost> {
  const host = await createTestHost({ plugins: PLUGINS, sites: [D], config });
  try {
    for (const username of users) {
      const displayName = username[0]!.toUpperCase() + username.slice(1);
      const res = await host.adminFetch(`/api/admin/sites/${D}/users`, { method: 'POST', body: JSON.stringify({ username, password: password(username), displayName }) });
      if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
    }
    return host;
  } catch (err) {
    await host.close();
    throw err;
  }
}

export interface UserApi {
  token: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

/** A signed-in user's fetch against `/api/plugins/...` paths (Bearer token). */
export async function userApi(host: TestHost, username: string): Promise<UserApi> {
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, site: D, password: password(username) }),
  });
  if (!login.ok) throw new Error(`login ${username}: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  return {
    token,
    async call(method, path, body) {
      const res = await fetch(`${host.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
  };
}

/**
 * Open the client as a signed-out visitor, get sent to the sign-in page,
 * sign in through the form, and wait until the client runs and its live
 * channel is connected.
 */
export async function signIn(page: Page, host: TestHost, username: string): Promise<void> {
  await page.goto(`${host.url}/client/${D}/`);
  await page.waitForURL(`${host.url}/client/${D}/sign-in`, { timeout: UI_TIMEOUT });
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password(username));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${host.url}/client/${D}/`, { timeout: UI_TIMEOUT });
  await clientReady(page);
}

/**
 * The runtime started every fragment script, the WebSocket is up, and the
 * loads the fragments start on connecting (presence reloads its state, IM its
 * conversations) have finished: a test that then ends the session or cuts the
 * socket acts on a client at rest, not one still fetching its first answers.
 */
export async function clientReady(page: Page): Promise<void> {
  await page.locator('html[data-client-ready="true"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  await page.locator('[data-wc-live="connected"]').waitFor({ timeout: UI_TIMEOUT });
  await requestsSettled(page);
}

/**
 * Resolves once `page` has had no HTTP request in flight for `quietMs` (pages
 * watched by {@link watchPages} only; WebSockets do not count). Gives up
 * quietly after `limitMs`: a page that keeps fetching is the caller's to judge.
 */
export async function requestsSettled(page: Page, quietMs = 400, limitMs = 10_000): Promise<void> {
  const watched = page as Watched;
  if (watched.inFlight === undefined) return;
  const end = Date.now() + limitMs;
  let quietSince = Date.now();
  while (Date.now() < end) {
    if (watched.inFlight > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Watched = Page & { failedLoads?: string[]; consoleErrors?: string[]; cspViolations?: string[]; inFlight?: number };

/** Requests that got a 4xx/5xx, as `STATUS METHOD path`. */
export function failedLoads(page: Page): string[] {
  return (page as Watched).failedLoads ?? [];
}

/** Content-Security-Policy violations the page reported. */
export function cspViolations(page: Page): string[] {
  return (page as Watched).cspViolations ?? [];
}

/**
 * Console errors and uncaught exceptions, as `path: text`, except the
 * failed loads of the paths the test names in `expected` (requests it made
 * fail on purpose; Chromium logs every 4xx answer as a console error).
 */
export function consoleErrors(page: Page, expected: string[] = []): string[] {
  return ((page as Watched).consoleErrors ?? []).filter((e) => !expected.some((path) => e.startsWith(`${path}: Failed to load resource`)));
}

/** Start collecting {@link failedLoads}, {@link consoleErrors} and {@link cspViolations} for every page of `context`. */
export async function watchPages(context: BrowserContext): Promise<void> {
  const track = (page: Page | null | undefined, delta: number) => {
    if (!page) return;
    const watched = page as Watched;
    watched.inFlight = Math.max(0, (watched.inFlight ?? 0) + delta);
  };
  const pageOf = (request: Request) => {
    try { return request.frame().page(); } catch { return undefined; } // service-worker requests have no frame
  };
  context.on('page', (page) => { (page as Watched).inFlight ??= 0; });
  for (const page of context.pages()) (page as Watched).inFlight ??= 0;
  context.on('request', (request) => track(pageOf(request), +1));
  context.on('requestfinished', (request) => track(pageOf(request), -1));
  context.on('requestfailed', (request) => track(pageOf(request), -1));
  context.on('response', (response) => {
    if (response.status() < 400) return;
    const page = response.frame().page() as Watched;
    (page.failedLoads ??= []).push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  context.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const page = msg.page() as Watched | null;
    if (!page) return;
    const url = msg.location().url;
    (page.consoleErrors ??= []).push(`${url ? new URL(url).pathname : '?'}: ${msg.text()}`);
  });
  context.on('weberror', (err) => {
    const page = err.page() as Watched | null;
    if (page) (page.consoleErrors ??= []).push(`uncaught: ${err.error().message}`);
  });
  // The browser's own report, heard from outside the page's scripts.
  await context.exposeBinding('__reportCsp', ({ page }, text: string) => {
    ((page as Watched).cspViolations ??= []).push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __reportCsp(t: string): void }).__reportCsp(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
}
