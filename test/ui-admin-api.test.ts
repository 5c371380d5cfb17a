// The API the admin console added: background CSV imports (progress, per-line
// outcomes, site isolation) and live registrations; plus the theme catalog's
// handling of broken themes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { pino } from 'pino';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { ThemeCatalog } from '../core/src/ui/theme-catalog.ts';
import { admin, call, EXPECTED_PROBLEMS, SAMPLE_CSV, signIn } from './identity-helpers.ts';

let th: TestHost;
t.before(async () => {
  th = await createTestHost({ plugins: [], sites: ['a.test', 'b.test'], sip: false });
});
t.teardown(() => th?.close());

async function poll(site: string, id: string, token = th.adminToken) {
  const lines: Array<{ line: number; ok: boolean; field?: string; code?: string; username?: string }> = [];
  const seen: number[] = [];
  for (;;) {
    const res = await call(th.url, 'GET', `/api/admin/sites/${site}/users/import-jobs/${id}?from=${lines.length}`, { token });
    if (res.status !== 200) throw new Error(`poll: ${res.status} ${JSON.stringify(res.body)}`);
    const { job } = res.body;
    if (job.from !== lines.length) throw new Error(`asked from ${lines.length}, got from ${job.from}`);
    lines.push(...job.lines);
    seen.push(job.done);
    if (job.state !== 'running') return { job, lines, seen };
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('an import job reports every line, in order, with the same outcomes as the synchronous import', async (t) => {
  const start = await call(th.url, 'POST', '/api/admin/sites/a.test/users/import-jobs', { token: th.adminToken, raw: SAMPLE_CSV });
  t.equal(start.status, 202);
  t.match(start.headers.get('location'), new RegExp(`/api/admin/sites/a.test/users/import-jobs/${start.body.job.id}$`));
  t.match(start.body.job, { site: 'a.test', total: 10, startedBy: 'admin' });
  const { job, lines, seen } = await poll('a.test', start.body.job.id);
  t.match(job, { state: 'done', total: 10, done: 10, created: 3, failed: EXPECTED_PROBLEMS.length });
  t.ok(job.finishedAt, 'finish time');
  t.same(lines.map((l) => l.line), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'each line once, in file order');
  t.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]!), 'done only grows');
  t.same(lines.filter((l) => !l.ok).map((l) => ({ line: l.line, field: l.field, code: l.code })), EXPECTED_PROBLEMS);
  t.same(lines.filter((l) => l.ok).map((l) => l.username), ['alice', 'erin', 'hank']);
  t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users/alice')).status, 200, 'the users exist');
});

t.test('a bad file is refused before any job starts; bad ids and other sites are not found', async (t) => {
  const bad = await call(th.url, 'POST', '/api/admin/sites/a.test/users/import-jobs', { token: th.adminToken, raw: 'name,secret\nx,y\n' });
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'CORE_ERR_IMPORT_INVALID');
  t.equal((await call(th.url, 'POST', '/api/admin/sites/a.test/users/import-jobs', { token: th.adminToken, raw: '' })).status, 400);
  t.equal((await call(th.url, 'POST', '/api/admin/sites/nosuch.test/users/import-jobs', { token: th.adminToken, raw: SAMPLE_CSV })).status, 404);
  const start = await call(th.url, 'POST', '/api/admin/sites/b.test/users/import-jobs', { token: th.adminToken, raw: 'username,password\nzed,zed-password\n' });
  t.equal(start.status, 202);
  await poll('b.test', start.body.job.id);
  const other = await admin(th, 'GET', `/api/admin/sites/a.test/users/import-jobs/${start.body.job.id}`);
  t.equal(other.status, 404, "b.test's job is unknown under a.test");
  t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users/import-jobs/not-a-uuid')).status, 400);
  t.equal((await admin(th, 'GET', `/api/admin/sites/b.test/users/import-jobs/${start.body.job.id}?from=x`)).status, 400);

  // A site-admin of a.test cannot read b.test's jobs, even knowing the id.
  t.equal((await admin(th, 'POST', '/api/admin/sites/a.test/users', { username: 'ada', password: 'ada-password', role: 'site-admin' })).status, 201);
  const ada = (await signIn(th.url, 'ada', 'ada-password', 'a.test')).body.token;
  t.equal((await call(th.url, 'GET', `/api/admin/sites/b.test/users/import-jobs/${start.body.job.id}`, { token: ada })).status, 403);
  t.equal((await call(th.url, 'GET', `/api/admin/sites/a.test/users/import-jobs/${start.body.job.id}`, { token: ada })).status, 404);
  const own = await call(th.url, 'POST', '/api/admin/sites/a.test/users/import-jobs', { token: ada, raw: 'username,password\nyan,yan-password-1\n' });
  t.equal(own.status, 202, 'a site-admin imports into their own site');
  t.match((await poll('a.test', own.body.job.id, ada)).job, { state: 'done', created: 1, startedBy: 'ada@a.test' });
});

t.test('registrations: per site and per user, unknown users 404', async (t) => {
  const all = await admin(th, 'GET', '/api/admin/sites/a.test/registrations');
  t.equal(all.status, 200);
  t.ok(all.body.users.some((u: { username: string; endpoints: unknown[] }) => u.username === 'alice' && u.endpoints.length === 0), 'users listed, unregistered');
  t.same((await admin(th, 'GET', '/api/admin/sites/a.test/users/alice/registrations')).body, { username: 'alice', endpoints: [] });
  t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users/nobody/registrations')).body.code, 'CORE_ERR_USER_NOT_FOUND');
  t.equal((await admin(th, 'GET', '/api/admin/sites/nosuch.test/registrations')).status, 404);
});

t.test('themes: a broken theme is left out, a missing default falls back to a built-in layout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-themes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = pino({ level: 'silent' });
  await mkdir(join(dir, 'broken'));
  await writeFile(join(dir, 'broken/theme.json'), JSON.stringify({ name: 'broken', description: 'x', layouts: { app: '../../etc/passwd', plain: 'plain.hbs' } }));
  await mkdir(join(dir, 'misnamed'));
  await writeFile(join(dir, 'misnamed/theme.json'), JSON.stringify({ name: 'other', description: 'x', layouts: { app: 'a.hbs', plain: 'a.hbs' } }));
  await writeFile(join(dir, 'misnamed/a.hbs'), '<p>{{title}}</p>');
  const catalog = ThemeCatalog.load(dir, log);
  t.same(catalog.list().map((x) => x.name), ['default'], 'only the fallback');
  t.notOk(catalog.has('broken'));
  t.match(catalog.get('broken').description, /Built-in fallback/, 'unknown names get the default');
  const real = ThemeCatalog.load(fileURLToPath(new URL('../themes/', import.meta.url)), log);
  t.same(real.list().map((x) => x.name).sort(), ['contrast', 'default']);
  t.same(real.get('default').regions.sidebar, ['presence.status-picker', 'presence.contact-list', 'web.conversation-list']);
});
