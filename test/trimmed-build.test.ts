// Trimmed builds: `switchboard build --profile config/profiles/branch.json`
// makes a folder with the core and only the profile's plugins (presence, IM,
// web client, plus their dependencies); it runs with its own two commands
// (npm run setup, npm start) and passes a smoke test with sipp: digest
// REGISTER, and a challenged MESSAGE the IM plugin relays to the recipient's
// registered sipp and keeps in both users' history.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, freePort, runCli } from './host-cli-helpers.ts';
import { adminSession } from './registry-helpers.ts';
import { runSipp } from './helpers/sipp.ts';

t.setTimeout(600_000);
const SITE = 'branch.example.com';

/** Every path under `dir` (relative), links not followed. */
async function listAll(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory() && rel !== 'node_modules') out.push(...(await listAll(dir, rel)));
  }
  return out;
}

const BRANCH_PLUGINS = ['im', 'presence', 'web-client'];

t.test('branch build: only the profile plugins, boots with its own start command, REGISTER and MESSAGE through IM with sipp', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'switchboard-build-'));
  // Retries: the folder is removed only after the host's process group is gone (below), but
  // a file written at the very end (the V8 code cache) must not fail the removal.
  t.teardown(() => rm(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  const out = join(work, 'branch');

  const built = await runCli(['build', '--profile', 'config/profiles/branch.json', '--out', out, '--json'], cleanEnv(), 300_000);
  t.equal(built.code, 0, built.stderr);
  const result = JSON.parse(built.stdout) as { plugins: Array<{ id: string; reason: string }>; bytes: number };
  t.same(result.plugins.map((p) => `${p.id} (${p.reason})`).sort(), BRANCH_PLUGINS.map((id) => `${id} (named)`));

  // What is in, and what is not.
  t.same((await readdir(join(out, 'plugins'))).sort(), BRANCH_PLUGINS);
  const files = await listAll(out);
  t.same(files.filter((f) => /who-is-there|hello|throwing-|failing-migration|outside-prefix/.test(f)), [], 'excluded plugins (fixtures, SDK examples) are absent');
  for (const gone of ['test', 'bench', 'sdk/examples', 'sdk/src/cli', 'sdk/bin', 'core/test', 'plugin-registry.json', 'plugins/im/test', 'plugins/presence/test', 'plugins/web-client/test']) {
    t.notOk(files.includes(gone), `${gone} is not shipped`);
  }
  for (const devOnly of ['typescript', 'tap', '@types']) {
    await t.rejects(stat(join(out, 'node_modules', devOnly)), `${devOnly} (dev only) is not shipped`);
  }
  for (const needed of ['fastify', 'typeorm', 'better-sqlite3', 'drachtio-srf', 'tsx']) {
    t.ok((await stat(join(out, 'node_modules', needed))).isDirectory(), `${needed} is shipped`);
  }
  // core/native: its built module goes in (the host gives freed C memory back with it), its sources and install script do not.
  t.ok(files.includes('core/native/build/Release/switchboard_malloc.node'), 'core/native\'s built module is shipped');
  t.same(files.filter((f) => f.startsWith('core/native/') && !f.endsWith('.node') && !/^core\/native\/(build(\/Release)?)?$/.test(f)), [], 'nothing else of core/native is');
  t.equal((JSON.parse(await readFile(join(out, 'core', 'package.json'), 'utf8')) as { scripts?: unknown }).scripts, undefined, 'core\'s install script (which builds core/native) is not');
  const trimCheck = spawnSync(process.execPath, ['--input-type=module', '-e', "import('./core/dist/threads/malloc-trim.js').then((m) => console.log(m.mallocTrimAvailable()))"], { cwd: out, encoding: 'utf8' });
  t.equal(trimCheck.stdout.trim(), 'true', `the build's core finds it (${trimCheck.stderr.trim()})`);
  // The start-up bundle: one-byte text, Latin-1 at most (V8 holds its whole source), without typeorm's drivers for
  // databases storage.url cannot name; in their place a class that says so.
  const bundle = await readFile(join(out, 'core', 'dist', 'bundle', 'main-cjs.cjs'), 'utf8');
  t.notOk(/[^\x00-\xff]/.test(bundle), 'no character of the bundle needs two bytes');
  for (const absent of ['PostgresQueryRunner', 'OracleQueryRunner', 'SqlServerQueryRunner', 'MongoQueryRunner', 'SpannerQueryRunner']) {
    t.notOk(bundle.includes(absent), `${absent} is not in the bundle`);
  }
  t.ok(bundle.includes("typeorm's postgres driver is not in Switchboard's bundle: storage.url takes sqlite: or mysql:"), 'the postgres driver is a class that says what to use');
  t.ok(bundle.includes('BetterSqlite3QueryRunner') && bundle.includes('MysqlQueryRunner'), 'the better-sqlite3 and mysql drivers are in');
  const pkg = JSON.parse(await readFile(join(out, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.same(Object.keys(pkg.scripts).sort(), ['setup', 'start']);
  t.match(await readFile(join(out, 'README.md'), 'utf8'), /npm run setup[\s\S]*npm start/);

  const npm = (args: string[], timeoutMs: number) => new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn('npm', args, { cwd: out, env: cleanEnv() });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
  const setup = await npm(['run', 'setup'], 60_000);
  t.equal(setup.code, 0, setup.stdout);

  const sipPort = await freePort(true);
  const httpPort = await freePort();
  const password = 'branch-admin-password';
  const config = join(work, 'site.json');
  await writeFile(config, JSON.stringify({
    http: { host: '127.0.0.1', port: httpPort },
    sip: { contacts: [`sip:127.0.0.1:${sipPort};transport=udp,tcp`], registrar: { algorithms: ['MD5', 'SHA-256'] } },
    admin: { password },
    log: { level: 'warn' },
  }));
  // `npm start` as the README says, with the site's own config on top of config/branch.json.
  const child = spawn('npm', ['start', '--', '--config', config], { cwd: out, env: cleanEnv(), detached: true });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(async () => {
    // The whole group: npm and the host it started.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const kill = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
    await exited;
    // npm can exit before the host it started has finished stopping (the host writes its
    // code cache into core/dist/bundle on exit): wait until no process of the group is left.
    for (let i = 0; i < 400; i++) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    clearTimeout(kill);
  });
  for (let i = 0; i < 600 && !/listening on http/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(log, /listening on http:\/\/127\.0\.0\.1/, 'the build starts');
  const url = `http://127.0.0.1:${httpPort}`;
  const health = (await (await fetch(`${url}/api/health`)).json()) as { plugins: { ready: number; failed: number } };
  t.same(health.plugins, { ready: BRANCH_PLUGINS.length, failed: 0 });

  const api = await adminSession(url, password);
  for (const user of ['alice', 'bob']) {
    const res = await api(`/api/admin/sites/${SITE}/users`, { method: 'POST', body: JSON.stringify({ username: user, password: `${user}-secret`, displayName: user }) });
    t.equal(res.status, 201, await res.clone().text());
  }
  for (const id of BRANCH_PLUGINS) {
    const res = await api(`/api/admin/sites/${SITE}/plugins/${id}`, { method: 'PUT', body: JSON.stringify({ enabled: true }) });
    t.equal(res.status, 200, await res.clone().text());
  }
  const signInPage = await fetch(`${url}/client/${SITE}/sign-in`);
  t.equal(signInPage.status, 200, 'the web client serves its sign-in page');
  t.match(await signInPage.text(), /<form[^>]*sign-in|name="password"/i, 'with its sign-in form');

  const inf = join(work, 'users.csv');
  // sipp does not expand keywords inside [authentication …], so the whole header spec is a field.
  await writeFile(inf, `SEQUENTIAL\n${['alice', 'bob'].map((u) => `${u};${u}-secret;[authentication username=${u} password=${u}-secret]`).join('\n')}\n`);
  const bobFile = join(work, 'bob.csv');
  await writeFile(bobFile, `SEQUENTIAL\nbob;bob-secret;[authentication username=bob password=bob-secret]\n`);

  // Bob's phone: a sipp that registers with digest and stays up, answering the MESSAGE that reaches it.
  let bobPid = -1;
  const bobPhone = runSipp({
    scenario: 'uac-register-stay.xml', target: `127.0.0.1:${sipPort}`, injectFile: bobFile, calls: 1, timeoutMs: 70_000,
    keys: { domain: SITE }, extraArgs: ['-oocsf', fileURLToPath(new URL('./sipp/ooc-answer-message.xml', import.meta.url))],
    onSpawn: (pid) => { bobPid = pid; },
  });
  t.teardown(async () => {
    try { process.kill(bobPid, 'SIGKILL'); } catch { /* already gone */ }
    await bobPhone;
  });
  let endpoints: unknown[] = [];
  for (let i = 0; i < 100 && endpoints.length === 0; i++) {
    const res = await api(`/api/admin/sites/${SITE}/users/bob/registrations`);
    endpoints = ((await res.json()) as { endpoints?: unknown[] }).endpoints ?? [];
    if (endpoints.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(endpoints.length, 1, "bob's phone registered with digest");

  // Alice registers from her own sipp, then writes to bob: challenged with 407, relayed by IM to bob's phone, 200 back.
  const registered = await runSipp({ scenario: 'uac-register-auth.xml', target: `127.0.0.1:${sipPort}`, injectFile: inf, calls: 1, rate: 10, timeoutMs: 20_000, keys: { domain: SITE, expires: '300' } });
  t.equal(registered.successful, 1, `digest REGISTER of alice (${registered.stderr.slice(-500)})`);
  const messaged = await runSipp({ scenario: 'uac-message-auth.xml', target: `127.0.0.1:${sipPort}`, injectFile: inf, calls: 1, rate: 10, timeoutMs: 20_000, keys: { domain: SITE, to: 'bob' } });
  t.equal(messaged.successful, 1, `challenged MESSAGE from alice answered 200 by bob's phone, not stored for later (202) (${messaged.stderr.slice(-500)})`);

  // The IM plugin, not the core's plain location routing, carried it: it is in bob's history.
  const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bob', site: SITE, password: 'bob-secret' }) });
  t.equal(login.status, 200, 'bob signs in over HTTP');
  const { token } = (await login.json()) as { token: string };
  // History is written behind in small batches: poll briefly.
  let messages: Array<{ body: string; sender: string; via: string }> = [];
  let answer = '';
  for (let i = 0; i < 50 && messages.length === 0; i++) {
    const history = await fetch(`${url}/api/plugins/im/sites/${SITE}/history?with=alice`, { headers: { authorization: `Bearer ${token}` } });
    answer = `${history.status} ${await history.clone().text()}`;
    messages = history.ok ? ((await history.json()) as { messages: typeof messages }).messages : [];
    if (messages.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(messages.map((m) => `${m.sender} (${m.via}): ${m.body.trim()}`), ['alice (sip): hello bob from alice'], `the message is in bob's IM history (last answer: ${answer.slice(0, 300)})`);
});
